"""POST /v1/audio/speech (the OpenAI speech API shape) and GET /v1/models.

The request is checked here, before it takes a queue slot; the worker then runs the pipeline, the speed change
and the encoding, so the event loop never does model work.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from deepasmr.serve.catalog import VoiceRef
from deepasmr.serve.encode import CODECS, change_speed, check_format, encode
from deepasmr.serve.errors import ApiError
from deepasmr.serve.schemas import SpeechRequest

router = APIRouter()
MODEL_ID = "deepasmr"
AUDIO = {"content": {c.media_type: {} for c in CODECS.values()},
         "description": "The speech, in response_format; X-Sample-Rate gives its rate (needed for pcm)."}


def _check(st, req: SpeechRequest) -> None:
    cfg = st.config
    if not req.input.strip():
        raise ApiError(400, "input: the text is empty: give something to say", param="input")
    if len(req.input) > cfg.max_text_chars:
        raise ApiError(400, f"input: {len(req.input)} characters; this server's maximum is {cfg.max_text_chars} "
                            "(split the text into several requests)", param="input", code="text_too_long")
    if req.stream_format == "sse":
        raise ApiError(400, "stream_format 'sse' is not supported: the whole file is sent (stream_format 'audio')",
                       param="stream_format")
    if not (cfg.min_speed <= req.speed <= cfg.max_speed):
        raise ApiError(400, f"speed: {req.speed:g} is outside {cfg.min_speed:g}..{cfg.max_speed:g}", param="speed")
    if req.steps is not None and not (1 <= req.steps <= cfg.max_steps):
        raise ApiError(400, f"steps: {req.steps} is outside 1..{cfg.max_steps}", param="steps")
    if req.candidates is not None and not (1 <= req.candidates <= cfg.max_candidates):
        raise ApiError(400, f"candidates: {req.candidates} is outside 1..{cfg.max_candidates}", param="candidates")
    if not (1 <= req.iterations <= cfg.max_iterations):
        raise ApiError(400, f"iterations: {req.iterations} is outside 1..{cfg.max_iterations}", param="iterations")
    check_format(req.response_format)


def _synthesize(st, req: SpeechRequest, voice: VoiceRef) -> tuple[bytes, str, int, dict]:
    start = time.perf_counter()
    changes = {"candidates": req.candidates, "phone_cfg_strength": req.phone_guidance}
    engine = st.engine.with_config(**{k: v for k, v in changes.items() if v is not None})
    phone_guidance = engine.config.phone_cfg_strength
    if phone_guidance is None:
        phone_guidance = engine.bundle.flow.cfg.phone_cfg_strength
    result = engine.speak_detailed(req.input, str(voice.clip), req.style, prompt_text=voice.transcript,
                                   prompt_style=voice.style, lang=req.lang, seed=req.seed, steps=req.steps,
                                   iterations=req.iterations)
    wav = change_speed(result.wav, req.speed)
    body, media_type, sr = encode(wav, result.sample_rate, req.response_format)
    took = time.perf_counter() - start
    st.metrics.observe_synthesis(took, wav.size / result.sample_rate)
    headers = {"X-Sample-Rate": str(sr), "X-DeepASMR-Task": result.task,
               "X-DeepASMR-Candidates": str(engine.config.candidates),
               "X-DeepASMR-Phone-Guidance": f"{phone_guidance:g}",
               "X-DeepASMR-Seconds": f"{wav.size / result.sample_rate:.3f}",
               "X-DeepASMR-Compute-Seconds": f"{took:.3f}",
               "Content-Disposition": f'inline; filename="speech.{req.response_format}"'}
    return body, media_type, sr, headers


@router.post("/v1/audio/speech", response_class=Response, responses={200: AUDIO}, tags=["speech"],
             summary="Speak a text in a voice, ASMR (whispered) or normal")
async def create_speech(request: Request, req: SpeechRequest):
    st = request.app.state.server
    st.require_engine()
    _check(st, req)
    voice = st.catalog.resolve(req.voice_id)
    body, media_type, _, headers = await st.run_job(lambda: _synthesize(st, req, voice))
    return Response(body, media_type=media_type, headers=headers)


@router.get("/v1/models", tags=["speech"], summary="The one model this server speaks with (OpenAI shape)")
async def list_models(request: Request):
    st = request.app.state.server
    root = str(st.engine.bundle.root) if st.engine is not None else None
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "deepasmr", "bundle": root}]}
