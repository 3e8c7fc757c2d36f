"""Bad-input matrix: every limit, corrupt uploads, unknown voices, wrong types. Each answers a 4xx in the OpenAI
error shape with a message naming the problem, and the server goes on serving afterwards."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

OK = {"model": "deepasmr", "input": "Soft rain.", "voice": "default", "response_format": "wav", "steps": 2}


def _wav(seconds: float, amplitude: float = 0.3, sr: int = 16000) -> bytes:
    t = np.arange(int(seconds * sr)) / sr
    buf = io.BytesIO()
    sf.write(buf, (amplitude * np.sin(2 * np.pi * 150 * t)).astype(np.float32), sr, format="WAV")
    return buf.getvalue()


# (case id, JSON body changes, expected status, text the message must contain)
SPEECH_CASES = [
    ("missing-input", {"input": None}, 400, "input: required"),
    ("blank-input", {"input": "   "}, 400, "the text is empty"),
    ("input-too-long", {"input": "a" * 301}, 400, "301 characters; this server's maximum is 300"),
    ("input-not-text", {"input": 123}, 400, "input: Input should be a valid string"),
    ("unsupported-script", {"input": "Привет мир"}, 400, "unsupported script"),
    ("unknown-voice", {"voice": "nobody-by-that-name"}, 400, "unknown voice 'nobody-by-that-name'"),
    ("voice-not-text", {"voice": 7}, 400, "voice"),
    ("missing-voice", {"voice": None}, 400, "voice: required"),
    ("unknown-format", {"response_format": "aac"}, 400, "response_format"),
    ("speed-too-high", {"speed": 5}, 400, "speed: 5 is outside 0.25..4"),
    ("speed-too-low", {"speed": 0.1}, 400, "speed: 0.1 is outside"),
    ("speed-not-number", {"speed": "fast"}, 400, "speed: Input should be a valid number"),
    ("unknown-style", {"style": "loud"}, 400, "style: Input should be 'asmr' or 'normal'"),
    ("steps-zero", {"steps": 0}, 400, "steps: 0 is outside 1..8"),
    ("steps-over-limit", {"steps": 99}, 400, "steps: 99 is outside 1..8"),
    ("steps-as-string", {"steps": "2"}, 400, "steps: Input should be a valid integer"),
    ("steps-fractional", {"steps": 2.5}, 400, "steps: Input should be a valid integer"),
    ("iterations-over-limit", {"iterations": 9}, 400, "iterations: 9 is outside 1..2"),
    ("candidates-zero", {"candidates": 0}, 400, "candidates: 0 is outside 1..16"),
    ("candidates-over-limit", {"candidates": 17}, 400, "candidates: 17 is outside 1..16"),
    ("phone-guidance-negative", {"phone_guidance": -1}, 400, "phone_guidance: Input should be greater than or equal "
                                                             "to 0"),
    ("negative-seed", {"seed": -1}, 400, "seed: Input should be greater than or equal to 0"),
    ("seed-as-bool", {"seed": True}, 400, "seed: Input should be a valid integer"),
    ("sse-streaming", {"stream_format": "sse"}, 400, "stream_format 'sse' is not supported"),
    ("unknown-language", {"lang": "fr"}, 400, "lang: Input should be 'en' or 'zh'"),
    ("model-not-text", {"model": 5}, 400, "model: Input should be a valid string"),
]


@pytest.mark.parametrize(("case", "change", "status", "message"), SPEECH_CASES, ids=[c[0] for c in SPEECH_CASES])
def test_bad_speech_request(api, case, change, status, message):
    body = {k: v for k, v in {**OK, **change}.items() if v is not None}
    r = api.post("/v1/audio/speech", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert message in error["message"], error
    assert error["type"] == "invalid_request_error"


def test_bodies_that_are_not_a_json_object(api):
    for content, want in ((b"{not json", "not valid JSON"), (b"[1, 2]", "valid dictionary"), (b"", "required")):
        r = api.post("/v1/audio/speech", content=content, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and want in r.json()["error"]["message"], (content, r.text)


def _upload(api, data: bytes | None, filename="clip.wav", **form):
    files = {"file": (filename, data, "audio/wav")} if data is not None else None
    return api.post("/v1/voices", files=files, data=form or None)


UPLOAD_CASES = [
    ("corrupt-bytes", lambda: (b"RIFF" + bytes(range(256)) * 40, {}), 400, "not a readable audio file"),
    ("text-file", lambda: (b"hello, I am not audio\n" * 50, {}), 400, "not a readable audio file"),
    ("empty-file", lambda: (b"", {}), 400, "is empty"),
    ("silent-clip", lambda: (_wav(2.0, amplitude=0.0), {}), 400, "silent"),
    ("too-short-clip", lambda: (_wav(0.2), {}), 400, "shorter than 0.5 s"),
    ("bad-style", lambda: (_wav(1.0), {"style": "shouty"}), 400, "style: must be one of normal, asmr"),
    ("transcript-too-long", lambda: (_wav(1.0), {"transcript": "word " * 120}), 400, "maximum is 500"),
    ("transcript-unsupported", lambda: (_wav(1.0), {"transcript": "Привет"}), 400, "transcript: unsupported"),
    ("name-too-long", lambda: (_wav(1.0), {"name": "n" * 101}), 400, "name: 101 characters"),
]


@pytest.mark.parametrize(("case", "make", "status", "message"), UPLOAD_CASES, ids=[c[0] for c in UPLOAD_CASES])
def test_bad_voice_upload(api, case, make, status, message):
    data, form = make()
    r = _upload(api, data, **form)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]["message"]
    assert "/tmp" not in r.json()["error"]["message"]  # the server's temp paths stay private


def test_clip_longer_than_the_limit(api, long_clip):
    r = _upload(api, long_clip.read_bytes(), filename="long.wav")
    assert r.status_code == 400 and "longer than the 12 s maximum" in r.json()["error"]["message"], r.text


def test_uploads_over_the_size_limit_are_refused_with_413(api):
    big = bytes(3 * 1024 * 1024)
    r = _upload(api, big)
    assert r.status_code == 413 and "2097152 byte upload limit" in r.json()["error"]["message"]

    def chunks():  # a well-formed multipart stream without Content-Length: counted while it streams
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        for _ in range(48):
            yield bytes(64 * 1024)
        yield b"\r\n--x--\r\n"

    r = api.post("/v1/voices", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and "upload limit" in r.json()["error"]["message"], r.text


def test_upload_without_a_file_or_with_text_in_its_place(api):
    r = api.post("/v1/voices", data={"name": "x"})
    assert r.status_code == 400 and "file: required" in r.json()["error"]["message"], r.text
    r = api.post("/v1/voices", data={"file": "not a file"}, files={"other": ("a.txt", b"x")})
    assert r.status_code == 400 and "file" in r.json()["error"]["message"], r.text
    r = api.post("/v1/voices", json={"file": "abc"})
    assert r.status_code == 400, r.text


def test_unknown_voices_routes_and_methods(api):
    cases = [
        (api.delete, "/v1/voices/voice_000000000000", 404, "no registered voice"),
        (api.delete, "/v1/voices/default", 400, "built in and cannot be deleted"),
        (api.get, "/v1/voices/nobody", 404, "no voice 'nobody'"),
        (api.get, "/v1/voices/nobody/plot.png", 400, "unknown voice"),
        (api.get, "/v1/voices/..%2F..%2Fetc/audio", 404, "no route"),  # never reaches a file
        (api.get, "/v1/nowhere", 404, "no route GET /v1/nowhere"),
        (api.get, "/v1/audio/speech", 405, "GET is not allowed"),
    ]
    for call, path, status, message in cases:
        r = call(path)
        assert r.status_code == status and message in r.json()["error"]["message"], (path, r.text)


def test_corrupt_clip_to_analyze(api):
    r = api.post("/v1/analyze", files={"file": ("x.wav", b"garbage" * 100, "audio/wav")})
    assert r.status_code == 400 and "not a readable audio file" in r.json()["error"]["message"]


def test_server_still_serves_after_the_matrix(api):
    # Runs after the cases above (file order): the same process answers a good request normally.
    assert api.get("/health").json()["status"] == "ok"
    r = api.post("/v1/audio/speech", json=OK)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav" and len(r.content) > 44
    metrics = api.get("/metrics").text
    assert 'route="/v1/audio/speech",method="POST",status="400"' in metrics
    assert 'status="413"' in metrics
