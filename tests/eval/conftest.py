"""Real synthesised speech for the measurement tests: espeak-ng (normal, native whisper, Mandarin
pinyin), flite, and WORLD pseudo-whisper (F0 zeroed, fully aperiodic resynthesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_synth import SENTENCES, ZH_PINYIN, espeak, flite, world_whisper


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """name -> wav path; names say source_voice_style_sentence."""
    d = tmp_path_factory.mktemp("eval_clips")
    two = f"{SENTENCES['a']} {SENTENCES['b']}"
    out = {
        "espeak_normal": espeak(d / "espeak_normal.wav", two),
        "espeak_whisper": espeak(d / "espeak_whisper.wav", two, "en-us+whisper"),
        "slt_a": flite(d / "slt_a.wav", SENTENCES["a"]),
        "slt_b": flite(d / "slt_b.wav", SENTENCES["b"]),
        "awb_c": flite(d / "awb_c.wav", SENTENCES["c"], "awb"),
        "awb_a": flite(d / "awb_a.wav", SENTENCES["a"], "awb"),
        "zh": espeak(d / "zh.wav", ZH_PINYIN, "cmn-latn-pinyin"),
    }
    out["slt_a_pseudo_whisper"] = world_whisper(out["slt_a"], d / "slt_a_pseudo_whisper.wav")
    return out


@pytest.fixture(scope="session")
def tiny_en():
    from deepasmr.eval.asr import get_backend

    return get_backend("tiny.en", "en")
