"""Shared fixtures: a tiny real corpus synthesised through deepasmr.data, and a one-line wav maker."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """Path to manifest.jsonl of a tiny real corpus (5 speakers: 3 en incl. flite/festival/espeak, 2 zh;
    normal + asmr; 3 utterances per style per speaker, 2 sentences in both styles; train/dev/test splits
    by speaker; splits.json beside it). Audio paths in the manifest are relative to its folder."""
    from deepasmr.data.tiny import build_tiny_corpus

    return build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.fixture
def synth_wav(tmp_path):
    """make(text="...", name="x.wav", voice="slt"|espeak voice like "en-us+whisper") -> Path of a real wav
    (flite voices at 16 kHz, espeak at 22.05 kHz) in this test's tmp_path."""

    def make(text: str = "The quiet garden was full of yellow flowers.", name: str = "speech.wav",
             voice: str = "slt") -> Path:
        path = tmp_path / name
        if voice in ("kal", "kal16", "awb", "rms", "slt"):
            cmd = ["flite", "-voice", voice, "-t", text, "-o", str(path)]
        else:
            cmd = ["espeak-ng", "-v", voice, "-w", str(path), text]
        subprocess.run(cmd, check=True, capture_output=True)
        return path

    return make


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Every test single-threaded: the CI machine has 2 shared cores, and one thread keeps float results
    reproducible for the exact-equality checks (cached vs uncached decoding, batched vs single CFG)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
