"""The HTTP API end to end on a real loopback server: health, OpenAPI, voices, speech in every format, metrics."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

TEXT = "Soft rain."


def speak(api, voice, fmt="wav", **extra):
    r = api.post("/v1/audio/speech", json={"model": "deepasmr", "input": TEXT, "voice": voice,
                                           "response_format": fmt, "seed": 3, "steps": 2, **extra})
    assert r.status_code == 200, r.text
    return r


@pytest.fixture(scope="module")
def spoken(live, registered_voice) -> dict:
    """One synthesis per format in the registered voice (seed 3), shared by the tests below: each is a few
    seconds of CPU on this machine."""
    import httpx

    with httpx.Client(base_url=live.url, timeout=120) as client:
        return {fmt: speak(client, registered_voice["id"], fmt) for fmt in ("wav", "flac", "mp3", "opus", "pcm")}


def test_health_reports_ready_model_queue_and_formats(api):
    body = api.get("/health").json()
    assert body["status"] == "ok" and body["ready"] is True and body["model_error"] is None
    assert body["queue"]["capacity"] == 4 and body["queue"]["workers"] == 1
    assert {"wav", "flac", "pcm"} <= set(body["formats"])
    assert body["default_voice"] is True


def test_openapi_describes_the_speech_and_voice_routes(api):
    schema = api.get("/openapi.json").json()
    for path in ("/v1/audio/speech", "/v1/voices", "/v1/voices/{voice_id}", "/health", "/metrics", "/v1/analyze"):
        assert path in schema["paths"], path
    fields = schema["components"]["schemas"]["SpeechRequest"]["properties"]
    ours = {"style", "seed", "steps", "iterations", "candidates", "phone_guidance"}
    assert {"model", "input", "voice", "response_format", "speed"} | ours <= set(fields)
    assert api.get("/docs").status_code == 404  # Swagger UI would load from a CDN: off


def test_voice_upload_list_get_audio_delete(api, speaker_clip):
    with open(speaker_clip, "rb") as f:
        r = api.post("/v1/voices", files={"file": ("awb.wav", f, "audio/wav")}, data={"name": "Alan"})
    assert r.status_code == 201, r.text
    voice = r.json()
    assert voice["id"].startswith("voice_") and voice["name"] == "Alan" and voice["kind"] == "uploaded"
    assert voice["style"] == "normal" and voice["r_uv"] is not None  # detected once, at upload
    assert 1.5 < voice["duration_s"] < 4.0
    listed = api.get("/v1/voices").json()["data"]
    assert voice["id"] in [v["id"] for v in listed]
    assert {"default", "pool"} <= {v["kind"] for v in listed}
    assert api.get(f"/v1/voices/{voice['id']}").json()["id"] == voice["id"]
    clip = api.get(f"/v1/voices/{voice['id']}/audio")
    wav, sr = sf.read(io.BytesIO(clip.content))
    assert sr == 16000 and wav.size / sr == pytest.approx(voice["duration_s"], abs=0.01)
    r = api.delete(f"/v1/voices/{voice['id']}")
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert api.get(f"/v1/voices/{voice['id']}").status_code == 404
    assert api.delete(f"/v1/voices/{voice['id']}").status_code == 404


def test_registered_voice_is_on_disk_for_the_next_server(registered_voice, serve_config):
    from deepasmr.serve.voices import VoiceStore

    reopened = VoiceStore(serve_config.voices_dir)  # what a restarted server would see
    voice = reopened.get(registered_voice["id"])
    assert voice is not None and voice.transcript.startswith("The little boat")
    assert reopened.clip_path(voice.id).is_file()


def test_speech_in_every_format(spoken):
    sizes = {}
    for fmt, r in spoken.items():
        seconds, rate = float(r.headers["X-DeepASMR-Seconds"]), int(r.headers["X-Sample-Rate"])
        assert r.headers["X-DeepASMR-Task"] == "N2A"
        if fmt == "pcm":
            assert r.headers["content-type"] == "audio/pcm" and len(r.content) % 2 == 0
            pcm = np.frombuffer(r.content, dtype="<i2")
            assert pcm.size == pytest.approx(seconds * rate, abs=0.002 * rate) and np.abs(pcm).max() > 0
        else:
            wav, sr = sf.read(io.BytesIO(r.content))
            assert sr == rate and np.isfinite(wav).all() and np.abs(wav).max() > 0
            # Lossy codecs pad a little; the duration is the pipeline's.
            assert wav.shape[0] / sr == pytest.approx(seconds, abs=0.1), fmt
        sizes[fmt] = len(r.content)
    assert sizes["mp3"] < sizes["wav"] and sizes["opus"] < sizes["wav"]


def test_same_seed_same_audio_and_speed_shortens_it(api, registered_voice, spoken):
    a = spoken["wav"]
    b = speak(api, registered_voice["id"])
    assert a.content == b.content
    fast = speak(api, registered_voice["id"], speed=2.0)
    assert float(fast.headers["X-DeepASMR-Seconds"]) == pytest.approx(float(a.headers["X-DeepASMR-Seconds"]) / 2,
                                                                      rel=0.1)


def test_a_request_chooses_how_many_token_samples_the_lm_draws(api, registered_voice, spoken):
    assert api.get("/v1/limits").json()["max_candidates"] == 16
    default = spoken["wav"]
    assert default.headers["X-DeepASMR-Candidates"] == "8"  # the server's default
    assert speak(api, registered_voice["id"], candidates=8).content == default.content
    one = speak(api, registered_voice["id"], candidates=1)
    assert one.headers["X-DeepASMR-Candidates"] == "1"
    assert one.content == speak(api, registered_voice["id"], candidates=1).content  # seeded: reproducible


def test_a_request_chooses_the_phone_guidance(api, registered_voice, spoken):
    default = spoken["wav"]
    assert default.headers["X-DeepASMR-Phone-Guidance"] == "0"  # the test bundle's flow config: off
    pulled = speak(api, registered_voice["id"], phone_guidance=1.5)
    assert pulled.headers["X-DeepASMR-Phone-Guidance"] == "1.5"
    # This test decoder was trained without phones, so there is nothing to pull towards: the same audio
    # (tests/flow/test_flow_phones.py measures the pull on a decoder told the phones).
    assert pulled.content == default.content


def test_default_and_pool_speaker_voices_speak(api):
    pool = [v for v in api.get("/v1/voices").json()["data"] if v["kind"] == "pool" and v["language"] == "en"]
    for voice in ("default", {"id": pool[0]["id"]}):  # a pool speaker in OpenAI's custom-voice object form
        r = speak(api, voice, style="normal")
        assert r.headers["X-DeepASMR-Task"] == "N2N"


def test_prompt_plot_and_output_analysis_are_pngs(api, registered_voice, spoken):
    plot = api.get(f"/v1/voices/{registered_voice['id']}/plot.png")  # drawn at upload
    assert plot.status_code == 200 and plot.content[:8] == b"\x89PNG\r\n\x1a\n"
    r = api.post("/v1/analyze", files={"file": ("out.mp3", spoken["mp3"].content, "audio/mpeg")})
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    assert "r_uv" in r.headers["X-DeepASMR-Analysis"]


def test_metrics_count_requests_latency_and_queue(api, spoken):
    api.get("/v1/nothing-here")
    text = api.get("/metrics").text
    assert 'deepasmr_requests_total{route="/v1/audio/speech",method="POST",status="200"}' in text
    assert 'deepasmr_requests_total{route="unmatched",method="GET",status="404"}' in text
    assert 'deepasmr_request_duration_seconds_bucket{route="/v1/audio/speech",le="+Inf"}' in text
    for name in ("deepasmr_queue_depth 0", "deepasmr_queue_capacity 4", "deepasmr_model_loaded 1",
                 "deepasmr_synthesis_seconds_count", "deepasmr_queue_rejected_total"):
        assert name in text, name


def test_web_page_and_assets_are_served_without_cdn(api):
    page = api.get("/")
    assert page.status_code == 200 and "<title>DeepASMR</title>" in page.text
    for asset in ("/web/app.js", "/web/style.css"):
        assert api.get(asset).status_code == 200
    for text in (page.text, api.get("/web/app.js").text, api.get("/web/style.css").text):
        assert "http://" not in text and "https://" not in text  # nothing fetched from elsewhere
