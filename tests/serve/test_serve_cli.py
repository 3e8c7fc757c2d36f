"""`deepasmr serve` as a user starts it: a real process, uvicorn, /health, and a clean stop on SIGINT."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_answers_and_stops(tmp_path):
    # A bundle folder that does not exist: the process still comes up and says why it cannot speak.
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "deepasmr", "serve", "--port", str(port), "--model",
                             str(tmp_path / "no-bundle"), "--data-dir", str(tmp_path / "data"), "--log-level",
                             "warning"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health, deadline = None, time.monotonic() + 180  # a busy machine imports slowly
        while health is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert health["ready"] is False and "no model bundle folder" in health["model_error"]
        r = httpx.post(f"http://127.0.0.1:{port}/v1/audio/speech", json={"input": "Hi.", "voice": "default"})
        assert r.status_code == 503 and "--model DIR" in r.json()["error"]["message"]
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode in (0, 130, -signal.SIGINT), out
    assert f"http://127.0.0.1:{port}/" in out and "model not loaded" in out
