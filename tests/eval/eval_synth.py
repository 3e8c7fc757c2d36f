"""Texts and synthesisers shared by the eval tests (a plain module: test files import it by name)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SENTENCES = {
    "a": "The birch canoe slid on the smooth planks.",
    "b": "Glue the sheet to the dark blue background.",
    "c": "It is easy to tell the depth of a well.",
}
ZH_PINYIN = "ni3 hao3 , wo3 men5 jin1 tian1 qu4 xue2 xiao4"
ZH_TEXT = "你好，我们今天去学校"


def espeak(out: Path, text: str, voice: str = "en-us") -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(out), text], check=True, capture_output=True)
    return out


def flite(out: Path, text: str, voice: str = "slt") -> Path:
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(out)], check=True, capture_output=True)
    return out


def world_whisper(src: Path, out: Path) -> Path:
    """The speaker's own spectral envelope resynthesised with no vocal-fold vibration."""
    import pyworld

    wav, sr = sf.read(src, dtype="float64")
    f0, t = pyworld.harvest(wav, sr)
    envelope = pyworld.cheaptrick(wav, f0, t, sr)
    aperiodicity = pyworld.d4c(wav, f0, t, sr)
    out_wav = pyworld.synthesize(np.zeros_like(f0), envelope, np.ones_like(aperiodicity), sr)
    sf.write(out, (0.5 * out_wav / np.max(np.abs(out_wav))).astype(np.float32), sr)
    return out
