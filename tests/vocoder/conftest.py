"""Shared fixtures: the real pretrained HiFi-GAN (loaded once) and short synthesizer clips made here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from deepasmr.audio import load_audio
from deepasmr.vocoder import load_vocoder

SENTENCE = "Sea shells by the shore."
SYNTH_COMMANDS = {
    "espeak_normal": ["espeak-ng", "-v", "en-us", "-w", "{out}", SENTENCE],
    "espeak_whisper": ["espeak-ng", "-v", "en-us+whisper", "-w", "{out}", SENTENCE],
    "flite_kal16": ["flite", "-voice", "kal16", "-t", SENTENCE, "-o", "{out}"],
}


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    # The cores are shared: with more threads than free cores, small convolutions spin and run 10-30x
    # slower (measured), so tests use one thread.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def hifigan():
    return load_vocoder("hifigan")


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, tuple[np.ndarray, Path]]:
    """name -> (22.05 kHz mono waveform, wav path) for each synthesizer that is installed."""
    folder = tmp_path_factory.mktemp("vocoder_clips")
    out = {}
    for name, cmd in SYNTH_COMMANDS.items():
        if shutil.which(cmd[0]) is None:
            continue
        path = folder / f"{name}.wav"
        subprocess.run([c.format(out=path) for c in cmd], check=True, capture_output=True)
        wav, _ = load_audio(path, 22_050)
        out[name] = (wav, path)
    return out


@pytest.fixture(scope="session")
def copies(clips, hifigan) -> dict[str, np.ndarray]:
    """name -> HiFi-GAN copy-synthesis of that clip (made once: the vocoder is the slow part)."""
    from deepasmr.vocoder.copysynth import copy_synthesize

    return {name: copy_synthesize(wav, hifigan) for name, (wav, _) in clips.items()}


@pytest.fixture(scope="session")
def clip(clips):
    """clip(name) -> (waveform, path), skipping the test when that synthesizer is not installed."""

    def get(name: str) -> tuple[np.ndarray, Path]:
        if name not in clips:
            pytest.skip(f"{SYNTH_COMMANDS[name][0]} is not installed")
        return clips[name]

    return get


@pytest.fixture
def manifest(clips, tmp_path) -> Path:
    """A training manifest of the session's clips (style from the voice's name, every row in "train")."""
    if len(clips) < 2:
        pytest.skip("needs espeak-ng or flite")
    rows = [{"id": name, "path": str(path), "text": "x", "phonemes": "", "language": "en", "speaker": name,
             "style": "asmr" if "whisper" in name else "normal", "source_voice": name, "transform": "none",
             "duration": 1.0, "gender": "male", "split": "train"} for name, (_, path) in clips.items()]
    path = tmp_path / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
