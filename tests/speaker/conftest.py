"""Real synthesised voices for speaker-embedding tests (flite and espeak-ng, including whisper)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from speaker_pools import PER_STYLE

SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
)


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        pytest.skip(f"{cmd[0]} is not installed")
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def voices(tmp_path_factory) -> dict[str, Path]:
    """'<voice>_<sentence index>' -> wav path, for flite slt/awb/rms and espeak whisper."""
    d = tmp_path_factory.mktemp("speaker_clips")
    out = {}
    for voice in ("slt", "awb", "rms"):
        for i in (0, 1):
            out[f"{voice}_{i}"] = d / f"{voice}_{i}.wav"
            _run(["flite", "-voice", voice, "-t", SENTENCES[i], "-o", str(out[f"{voice}_{i}"])])
    out["whisper_2"] = d / "whisper_2.wav"
    _run(["espeak-ng", "-v", "en-us+whisper", "-w", str(out["whisper_2"]), SENTENCES[2]])
    return out


@pytest.fixture(scope="session")
def pools_dir(tiny_corpus, tmp_path_factory) -> Path:
    """Normal + ASMR pools built from the tiny corpus (read-only for tests: copy before damaging)."""
    from deepasmr.speaker.pool import PoolConfig
    from deepasmr.speaker.pool_build import build_from_corpus

    out = tmp_path_factory.mktemp("pools") / "pools"
    build_from_corpus(tiny_corpus, out, PoolConfig(per_style=PER_STYLE))
    return out
