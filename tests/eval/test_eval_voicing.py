"""R_UV on real synthesised speech: whispers are almost all unvoiced, normal voices mostly voiced."""

from __future__ import annotations

import numpy as np
import pytest

from deepasmr.audio import load_audio
from deepasmr.errors import AudioError
from deepasmr.eval.voicing import (
    VoicingConfig,
    VoicingSummary,
    analyze_files,
    analyze_voicing,
    pool_ratios,
    style_verdict,
)


@pytest.fixture(scope="module")
def summaries(clips):
    names = ["espeak_normal", "espeak_whisper", "slt_a", "slt_a_pseudo_whisper"]
    results = analyze_files([clips[n] for n in names], workers=2)
    return dict(zip(names, results, strict=True))


@pytest.mark.parametrize("name", ["espeak_whisper", "slt_a_pseudo_whisper"])
def test_whisper_is_unvoiced(summaries, name):
    s = summaries[name]
    assert s.r_uv > 0.85, s
    assert s.style == "asmr"


@pytest.mark.parametrize("name", ["espeak_normal", "slt_a"])
def test_normal_is_voiced(summaries, name):
    s = summaries[name]
    assert s.r_uv < 0.5, s
    assert s.style == "normal"
    assert 65 <= s.f0_median_hz <= 400


def test_silence_padding_does_not_change_r_uv(clips):
    # The energy gate removes pauses: padding a clip with silence must not move R_UV.
    wav, sr = load_audio(clips["slt_a"], 16_000, trim=False)
    pad = np.zeros(sr, dtype=np.float32)
    plain = analyze_voicing(wav, sr)
    padded = analyze_voicing(np.concatenate([pad, wav, pad]), sr)
    assert padded.n_active == pytest.approx(plain.n_active, abs=2)
    assert padded.r_uv == pytest.approx(plain.r_uv, abs=0.03)


def test_pooled_vs_mean():
    a = VoicingSummary(100, 90, 0.9, None, None, None, None, None, "asmr")
    b = VoicingSummary(10, 0, 0.0, 120.0, 120.0, 0.0, 120.0, 120.0, "normal")
    pooled = pool_ratios([a, b])
    assert pooled["r_uv_global"] == pytest.approx(90 / 110)
    assert pooled["r_uv_mean"] == pytest.approx(0.45)
    assert pool_ratios([])["r_uv_global"] is None


def test_style_verdict_cut():
    cfg = VoicingConfig(asmr_cut=0.6)
    assert style_verdict(0.61, cfg) == "asmr"
    assert style_verdict(0.59, cfg) == "normal"
    assert style_verdict(float("nan"), cfg) == "unknown"


def test_bad_input(tmp_path):
    with pytest.raises(AudioError):
        analyze_voicing(np.zeros(0, dtype=np.float32), 16_000)
    with pytest.raises(AudioError):
        analyze_voicing(np.zeros((2, 100), dtype=np.float32), 16_000)
    (tmp_path / "junk.wav").write_bytes(b"RIFF nonsense")
    out = analyze_files([tmp_path / "junk.wav", tmp_path / "missing.wav"])
    assert all(isinstance(o, str) for o in out)
    assert "missing.wav" in out[1]
