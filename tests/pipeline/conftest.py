"""Pipeline test fixtures: the loaded engine and voice clips. The tiny bundle itself (`bundle_dir`) is built in
tests/conftest.py, shared with the serving tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def engine(bundle_dir):
    from deepasmr.pipeline import DeepASMR

    return DeepASMR.load(bundle_dir)


@pytest.fixture(scope="session")
def voice_clip(tmp_path_factory) -> Path:
    """A normal-voice clip of an unseen speaker (flite awb, 16 kHz)."""
    path = tmp_path_factory.mktemp("voice") / "awb.wav"
    subprocess.run(["flite", "-voice", "awb", "-t", "The little boat drifted slowly across the lake.",
                    "-o", str(path)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def whisper_clip(tmp_path_factory) -> Path:
    """An ASMR (whispered) clip: espeak-ng's whisper variant."""
    path = tmp_path_factory.mktemp("voice") / "whisper.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+whisper", "-w", str(path),
                    "Close your eyes and listen to the soft rain."], check=True, capture_output=True)
    return path
