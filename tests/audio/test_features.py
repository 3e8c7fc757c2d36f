"""The shared log-mel definition: frame rate, presets and agreement with librosa's reference."""

import subprocess

import librosa
import numpy as np
import pytest

from deepasmr.audio import MEL_PRESETS, load_audio, log_mel, num_frames


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    path = tmp_path_factory.mktemp("feat") / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), "Seven silver spoons."], check=True)
    return load_audio(path)[0]


def test_frame_count_and_shape(speech):
    cfg = MEL_PRESETS["tiny"]
    mel = log_mel(speech, cfg)
    assert mel.shape == (cfg.n_mels, num_frames(speech.size, cfg))
    assert abs(cfg.frame_rate - 86.13) < 0.01


def test_matches_librosa_reference(speech):
    """Same filterbank and magnitude STFT as HiFi-GAN's training features, cross-checked with librosa."""
    cfg = MEL_PRESETS["tiny"]
    pad = (cfg.n_fft - cfg.hop_length) // 2
    padded = np.pad(speech, pad, mode="reflect")
    magnitude = np.abs(
        librosa.stft(padded, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length, center=False)
    )
    basis = librosa.filters.mel(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmax=cfg.fmax)
    reference = np.log(np.maximum(basis @ magnitude, cfg.log_floor))
    ours = log_mel(speech, cfg).numpy()
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).mean() < 1e-3


def test_batched_equals_single(speech):
    batch = np.stack([speech, speech[::-1].copy()])
    mels = log_mel(batch)
    np.testing.assert_allclose(mels[0].numpy(), log_mel(speech).numpy(), atol=1e-5)


def test_paper_preset_is_50_hz():
    cfg = MEL_PRESETS["paper"]
    assert cfg.sample_rate == 24_000 and cfg.frame_rate == 50.0 and cfg.n_mels == 80
