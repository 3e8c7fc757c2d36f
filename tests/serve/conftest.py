"""Serving fixtures: a real uvicorn server on loopback (in a thread of the test process) running the real app on
the real tiny bundle (`bundle_dir`, tests/conftest.py), one loaded model shared by every server of the session,
and real voice clips. No part of the pipeline is replaced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from serve_helpers import TEST_LIMITS, start_server


@pytest.fixture(scope="session")
def serve_engine(bundle_dir):
    from deepasmr.pipeline import DeepASMR

    return DeepASMR.load(bundle_dir)


@pytest.fixture(scope="session")
def serve_config(tmp_path_factory):
    from deepasmr.serve.config import ServeConfig

    return ServeConfig(data_dir=tmp_path_factory.mktemp("serve_data"), **TEST_LIMITS)


@pytest.fixture(scope="session")
def live(serve_config, serve_engine):
    server = start_server(serve_config, serve_engine)
    yield server
    server.stop()


@pytest.fixture
def api(live):
    with httpx.Client(base_url=live.url, timeout=120) as client:
        yield client


def _flite(path: Path, text: str, voice: str = "awb") -> Path:
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(path)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def speaker_clip(tmp_path_factory) -> Path:
    """A normal-voice clip of a speaker the bundle never saw (flite awb, 16 kHz, ~3 s)."""
    return _flite(tmp_path_factory.mktemp("clips") / "awb.wav", "The little boat drifted slowly across the lake.")


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory) -> Path:
    """A clip longer than TEST_LIMITS' max_clip_seconds (still under the upload size limit)."""
    text = " ".join(["The old clock in the hall ticked on through the long and quiet winter night."] * 4)
    return _flite(tmp_path_factory.mktemp("clips") / "long.wav", text, voice="kal")


@pytest.fixture(scope="session")
def registered_voice(live, speaker_clip) -> dict:
    with httpx.Client(base_url=live.url, timeout=120) as client, open(speaker_clip, "rb") as f:
        r = client.post("/v1/voices", files={"file": ("awb.wav", f, "audio/wav")},
                        data={"name": "awb", "transcript": "The little boat drifted slowly across the lake."})
    assert r.status_code == 201, r.text
    return r.json()
