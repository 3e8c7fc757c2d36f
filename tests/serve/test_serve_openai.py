"""The official `openai` Python client, pointed at the real server, creates speech (and reads our errors)."""

from __future__ import annotations

import io

import numpy as np
import openai
import pytest
import soundfile as sf


@pytest.fixture
def client(live):
    with openai.OpenAI(base_url=f"{live.url}/v1", api_key="not-needed-on-loopback", max_retries=0,
                       timeout=120) as c:
        yield c


def test_openai_client_creates_speech_in_a_registered_voice(client, registered_voice):
    response = client.audio.speech.create(model="deepasmr", voice=registered_voice["id"], input="Soft rain.",
                                          response_format="wav", extra_body={"style": "asmr", "seed": 1, "steps": 2})
    wav, sr = sf.read(io.BytesIO(response.content))
    assert sr == 22050 and wav.size > sr // 10 and np.abs(wav).max() > 0


def test_openai_client_streams_its_default_mp3_to_a_file(client, tmp_path):
    out = tmp_path / "speech.mp3"
    with client.audio.speech.with_streaming_response.create(model="tts-1", voice="default", input="Hush.",
                                                            extra_body={"style": "normal", "steps": 2}) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        response.stream_to_file(out)
    wav, sr = sf.read(out)  # no response_format: OpenAI's default, mp3
    assert sr == 22050 and wav.size > 0


def test_openai_client_raises_our_messages(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.audio.speech.create(model="deepasmr", voice="alloy", input="Hi.")
    assert err.value.status_code == 400 and "unknown voice 'alloy'" in str(err.value)
    with pytest.raises(openai.BadRequestError, match="speed: 9 is outside"):
        client.audio.speech.create(model="deepasmr", voice="default", input="Hi.", speed=9)
