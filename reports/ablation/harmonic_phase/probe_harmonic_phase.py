"""Probe: give the Vocos's voiced frames a phase that advances at the harmonics of the speaker's F0 (session 25).

The shipped Vocos voices normal-style output at its own frame rate (86 Hz, `../normal_pitch/`): its predicted
phase barely moves from frame to frame. Here, for normal-style output, each voiced frame's bin k instead advances
its phase by 2 pi h_k hop / sr from the frame before, where h_k is the harmonic of F0 nearest the bin's centre
frequency, and F0 is the median PYIN pitch of the voice clip the request was given (N2N: the speaker's own normal
speech). Unvoiced frames keep their random phase; the magnitude is the Vocos's. Run as
`[HARM_COMB=0.15] python probe_harmonic_phase.py eval-model ...` (normal-style test sets whose voice clip is
normal speech).
"""
import math
import os
import sys

import librosa
import numpy as np
import torch

from deepasmr.audio import load_audio
from deepasmr.pipeline.engine import DeepASMR
from deepasmr.vocoder.vocos import VocosVocoder

# HARM_COMB=w: also shape each voiced frame's magnitude by a comb of Gaussians at the harmonics, width w * F0.
COMB = float(os.environ.get("HARM_COMB", "0"))
state = {"f0": None}
orig_speak = DeepASMR.speak_detailed


def speak_detailed(self, text, voice, style="asmr", **kw):
    wav, sr = load_audio(voice, 22050)
    f0, voiced, _ = librosa.pyin(wav, fmin=60, fmax=400, sr=sr, frame_length=1024, hop_length=256)
    state["f0"] = float(np.median(f0[voiced])) if voiced.any() else None
    return orig_speak(self, text, voice, style, **kw)


DeepASMR.speak_detailed = speak_detailed


@torch.no_grad()
def _synthesize(self, mel, style=None):
    gen = self.model
    mask = gen.phase_mask(mel, None if style is None else [style] * mel.shape[0])
    if style != "normal" or state["f0"] is None or mask is None or mask.dim() != 2:
        return gen(mel, mask).clamp(-1.0, 1.0).cpu()
    magnitude, phase = gen.spectrum(mel)
    n_fft, hop, sr = gen.cfg.mel.n_fft, gen.cfg.mel.hop_length, gen.cfg.mel.sample_rate
    bins = torch.arange(phase.shape[1], dtype=phase.dtype) * sr / n_fft
    f0 = state["f0"]
    harmonic = torch.clamp(torch.round(bins / f0), min=1) * f0
    step = 2 * math.pi * harmonic * hop / sr  # phase advance per frame at each bin's harmonic
    if COMB:
        # Keep the energy near the harmonics (same total per frame): a bin far from every harmonic, forced to
        # advance at one, modulates at the frame rate.
        comb = torch.exp(-0.5 * ((bins - harmonic) / (COMB * f0)) ** 2)[None, :, None]
        voiced = ~mask[:, None, :]
        combed = magnitude * comb
        gain = (magnitude.square().sum(1, keepdim=True) / combed.square().sum(1, keepdim=True).clamp_min(1e-12)).sqrt()
        magnitude = torch.where(voiced, combed * gain, magnitude)
    unvoiced = mask[0]
    out = phase.clone()
    noise = math.pi * (2 * torch.rand_like(phase) - 1)
    for t in range(phase.shape[-1]):
        if unvoiced[t]:
            out[0, :, t] = noise[0, :, t]
        else:
            out[0, :, t] = (out[0, :, t - 1] + step) if t > 0 and not unvoiced[t - 1] else phase[0, :, t]
    return gen.istft(torch.polar(magnitude, out)).clamp(-1.0, 1.0).cpu()


VocosVocoder._synthesize = _synthesize

from deepasmr.cli import main  # noqa: E402

sys.argv = ["deepasmr"] + sys.argv[1:]
main()
