"""Voices: upload a clip (multipart) -> id; list; read one; fetch its clip; delete. Stored by VoiceStore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from deepasmr.atomic import atomic_write
from deepasmr.errors import TextError
from deepasmr.serve.analysis import plot_cache_path, render_png
from deepasmr.serve.errors import ApiError
from deepasmr.serve.uploads import read_clip
from deepasmr.serve.voices import VoiceLimitError

router = APIRouter(tags=["voices"])
MAX_NAME = 100
STYLES = ("normal", "asmr")


def _check_transcript(st, transcript: str | None) -> str | None:
    if transcript is None or not transcript.strip():
        return None
    transcript = transcript.strip()
    if len(transcript) > st.config.max_transcript_chars:
        raise ApiError(400, f"transcript: {len(transcript)} characters; the maximum is "
                            f"{st.config.max_transcript_chars}", param="transcript")
    from deepasmr.pipeline.config import SpeakConfig
    from deepasmr.pipeline.text import check_text

    try:
        check_text(transcript, None, SpeakConfig(max_chars=st.config.max_transcript_chars))
    except TextError as err:
        raise ApiError(400, f"transcript: {err}", param="transcript") from None
    return transcript


@router.post("/v1/voices", status_code=201, summary="Register a voice from a clip of ordinary (or ASMR) speech")
async def create_voice(
    request: Request,
    file: Annotated[UploadFile, File(description="the voice clip (wav/flac/ogg/mp3), mono or stereo")],
    name: Annotated[str | None, Form(description="a display name")] = None,
    transcript: Annotated[str | None, Form(description="what the clip says (used by A2A/N2N)")] = None,
    style: Annotated[str | None, Form(description="the clip's style, normal|asmr (default: detected)")] = None,
):
    st = request.app.state.server
    if name is not None and len(name) > MAX_NAME:
        raise ApiError(400, f"name: {len(name)} characters; the maximum is {MAX_NAME}", param="name")
    if style is not None and style not in STYLES:
        raise ApiError(400, f"style: must be one of {', '.join(STYLES)}, not {style[:40]!r}", param="style")
    transcript = _check_transcript(st, transcript)
    wav, sr, shown = await read_clip(file, max_seconds=st.config.max_clip_seconds)
    # One PYIN pass (on the work queue, like all model-side work) gives the style verdict, R_UV and the prompt's
    # picture for the web page, so no speech request has to detect the style again.
    png, analysis = await st.run_job(lambda: render_png(wav, sr, f"prompt {shown}"))
    r_uv = analysis.get("r_uv")
    if style is None:
        style = analysis.get("style")
        if style not in STYLES:
            raise ApiError(400, "file: cannot tell the clip's style (no active speech frames); send style=normal "
                                "or style=asmr", param="style", code="audio_invalid")
    try:
        voice = await run_in_threadpool(st.store.add, wav, sr, name=name, transcript=transcript, style=style,
                                        r_uv=r_uv, filename=shown)
    except VoiceLimitError as err:
        raise ApiError(409, str(err), code="voice_limit") from None
    await run_in_threadpool(atomic_write, plot_cache_path(st, voice.id), lambda tmp: Path(tmp).write_bytes(png),
                            ".png")
    return voice.to_dict()


@router.get("/v1/voices", summary="Registered voices, then the built-in ones (default, pool speakers)")
async def list_voices(request: Request):
    st = request.app.state.server
    uploaded = [v.to_dict() for v in await run_in_threadpool(st.store.voices)]
    return {"object": "list", "data": uploaded + [r.to_dict() for r in st.catalog.builtin()]}


@router.get("/v1/voices/{voice_id}", summary="One voice (registered or built-in)")
async def get_voice(request: Request, voice_id: str):
    st = request.app.state.server
    voice = st.store.get(voice_id) if st.store.valid_id(voice_id) else None
    if voice is not None:
        return voice.to_dict()
    if not st.catalog.is_builtin(voice_id):
        raise ApiError(404, f"no voice {voice_id[:80]!r}", param="voice_id", code="voice_not_found")
    return st.catalog.resolve(voice_id).to_dict()


@router.get("/v1/voices/{voice_id}/audio", response_class=FileResponse, summary="A voice's prompt clip")
async def voice_audio(request: Request, voice_id: str):
    ref = request.app.state.server.catalog.resolve(voice_id)
    if not ref.clip.is_file():
        raise ApiError(400, f"voice {voice_id!r}: its clip {ref.clip.name} is missing on the server", param="voice")
    return FileResponse(ref.clip, filename=f"{ref.id}{ref.clip.suffix}")


@router.delete("/v1/voices/{voice_id}", summary="Delete a registered voice")
async def delete_voice(request: Request, voice_id: str):
    st = request.app.state.server
    if not await run_in_threadpool(st.store.delete, voice_id):
        if st.catalog.is_builtin(voice_id):
            raise ApiError(400, f"voice {voice_id!r} is built in and cannot be deleted", param="voice_id")
        raise ApiError(404, f"no registered voice {voice_id[:80]!r}", param="voice_id", code="voice_not_found")
    plot_cache_path(st, voice_id).unlink(missing_ok=True)
    return {"id": voice_id, "object": "voice.deleted", "deleted": True}
