"""The decoder's pitch condition: F0 per frame, shown to the network as a harmonic comb in mel bins.

Why: decoded from the ground truth's own tokens, the tiny decoder renders normal speech without the harmonic
lines below ~1.5 kHz (reports/ablation/decoded_pitch/: 24 % of English voiced frames stay voiced). The tokens
do not fix the pitch, so a decoder that cannot commit to one averages over pitches and the harmonics smear.
Told F0 (`FlowConfig.pitch_cond`), it need not guess. It is told as a comb already laid on the mel scale —
where each harmonic k·F0 falls in the mel bins — so the network only has to shape the comb with the spectral
envelope instead of learning the mel-scale arithmetic of harmonics.

F0 arrives in Hz per mel frame: > 0 voiced, 0 unvoiced, < 0 (UNKNOWN_F0) not known — the prompt's frames,
padding, pitch dropout, and the guidance's null branch.
"""

from __future__ import annotations

import math

import torch

from deepasmr.audio.features import MelConfig, _mel_basis

UNKNOWN_F0 = -1.0
# The comb's peaks are one STFT bin wide (the analysis window's main lobe is about that), so they stay
# separate down to ~85 Hz voices, whose harmonics lie four bins apart at the tiny mel.
PEAK_WIDTH_BINS = 1.0
FLAGS = 2  # [known, voiced] beside the comb


def pitch_feature_dim(n_mels: int) -> int:
    return n_mels + FLAGS


def harmonic_comb(f0: torch.Tensor, mel: MelConfig) -> torch.Tensor:
    """f0 [..., L] Hz -> [..., L, n_mels]: log of a harmonic comb (a Gaussian peak at every multiple of F0,
    up to Nyquist) through the mel filterbank, relative to the comb's mean level, so that 0 means "as much as
    an average bin". Frames with f0 <= 0 get zeros."""
    n_freq = mel.n_fft // 2 + 1
    freqs = torch.linspace(0.0, mel.sample_rate / 2, n_freq, device=f0.device)
    voiced = f0 > 0
    f = torch.where(voiced, f0, torch.ones_like(f0)).float()[..., None]  # [..., L, 1]
    sigma = PEAK_WIDTH_BINS * mel.sample_rate / mel.n_fft
    distance = freqs - f * torch.round(freqs / f)  # to the nearest harmonic
    comb = torch.exp(-0.5 * (distance / sigma) ** 2) * (freqs >= 0.5 * f)  # nothing below the fundamental
    basis = _mel_basis(mel).to(f0.device)  # [n_mels, n_freq], Slaney-normalised
    banded = comb @ basis.T
    flat = torch.ones(n_freq, device=f0.device) @ basis.T  # the same filters on a flat spectrum
    mean_level = sigma * math.sqrt(2 * math.pi) / f  # the comb's average height
    log_rel = torch.log(banded / (flat * mean_level) + 1e-2)
    return log_rel * voiced[..., None]


def pitch_features(f0: torch.Tensor, mel: MelConfig) -> torch.Tensor:
    """f0 [B, L] (Hz, 0 unvoiced, < 0 unknown) -> [B, L, pitch_feature_dim]: the comb, then flags
    [known, voiced]. Unknown frames are all zeros, the same input the network gets from a decoder without it."""
    known = f0 >= 0
    voiced = f0 > 0
    return torch.cat([harmonic_comb(f0, mel), known[..., None].float(), voiced[..., None].float()], dim=-1)
