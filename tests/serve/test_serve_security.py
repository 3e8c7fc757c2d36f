"""API key, loopback-only default, and a server whose model cannot be loaded."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from serve_helpers import start_server

from deepasmr.errors import DeepASMRError
from deepasmr.serve.config import ServeConfig

KEY = "s3cret-key"


def test_api_key_guards_the_api_but_not_health_or_the_page(serve_config, serve_engine, tmp_path):
    server = start_server(serve_config.with_(data_dir=tmp_path, api_key=KEY), serve_engine)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            assert api.get("/health").status_code == 200
            assert api.get("/").status_code == 200 and api.get("/web/app.js").status_code == 200
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}, {"Authorization": KEY}):
                r = api.get("/v1/voices", headers=headers)
                assert r.status_code == 401 and "API key" in r.json()["error"]["message"], headers
                assert api.get("/metrics", headers=headers).status_code == 401
            assert api.get("/v1/voices", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
            assert api.get("/v1/voices", headers={"X-API-Key": KEY}).status_code == 200
    finally:
        server.stop()


def test_binding_beyond_loopback_needs_a_key_or_an_explicit_opt_out():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        ServeConfig(host=host).check_exposure()
    with pytest.raises(DeepASMRError, match="without an API key"):
        ServeConfig(host="0.0.0.0").check_exposure()
    ServeConfig(host="0.0.0.0", api_key=KEY).check_exposure()
    ServeConfig(host="0.0.0.0").check_exposure(allow_no_key=True)


def test_cli_refuses_an_open_network_bind(capsys, monkeypatch):
    from deepasmr.cli import main

    monkeypatch.delenv("DEEPASMR_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in capsys.readouterr().err


def test_bad_limits_are_refused():
    with pytest.raises(DeepASMRError, match="max_queue"):
        ServeConfig(max_queue=0)
    with pytest.raises(DeepASMRError, match="workers"):
        ServeConfig(workers=4, max_queue=2)


def test_missing_model_leaves_the_server_up_with_a_clear_503(tmp_path):
    from deepasmr.serve.app import create_app

    app = create_app(ServeConfig(model=tmp_path / "no-bundle", data_dir=tmp_path / "data"))
    with TestClient(app) as client:
        health = client.get("/health").json()
        assert health["status"] == "degraded" and health["ready"] is False
        assert "no model bundle folder" in health["model_error"]
        r = client.post("/v1/audio/speech", json={"model": "m", "input": "Hi.", "voice": "default"})
        assert r.status_code == 503 and "model is not loaded" in r.json()["error"]["message"]
        assert client.get("/v1/voices").status_code == 200  # voice management still works
