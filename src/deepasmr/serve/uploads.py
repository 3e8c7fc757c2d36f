"""An uploaded audio file -> a validated mono clip, through deepasmr.audio (the project's one loader).

The bytes go to a private temp file (named with the upload's extension when it is a known audio one, so the
decoder can tell formats apart); error messages name the upload, never the temp path.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from deepasmr.errors import AudioError
from deepasmr.serve.errors import ApiError

KNOWN_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".webm", ".m4a"}


def display_name(upload: UploadFile) -> str:
    name = Path(upload.filename or "upload").name
    return re.sub(r"[^\w.\- ]", "_", name)[:100] or "upload"


def _decode(data: bytes, suffix: str, shown: str, max_seconds: float, trim: bool) -> tuple[np.ndarray, int]:
    from deepasmr.audio import AudioLimits, load_audio

    with tempfile.TemporaryDirectory(prefix="deepasmr-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return load_audio(path, trim=trim, limits=AudioLimits(max_seconds=max_seconds))
        except AudioError as err:
            raise AudioError(str(err).replace(str(path), shown)) from None


async def read_clip(upload: UploadFile | None, *, max_seconds: float, trim: bool = True,
                    field: str = "file") -> tuple[np.ndarray, int, str]:
    """(wav, sample_rate, shown name) of an uploaded clip; ApiError 400 for anything unusable."""
    if upload is None or not hasattr(upload, "read"):
        raise ApiError(400, f"{field}: upload an audio file as the multipart field {field!r}", param=field)
    shown = display_name(upload)
    data = await upload.read()
    if not data:
        raise ApiError(400, f"{field}: {shown} is empty (0 bytes)", param=field, code="audio_invalid")
    suffix = Path(shown).suffix.lower()
    try:
        wav, sr = await run_in_threadpool(_decode, data, suffix if suffix in KNOWN_SUFFIXES else "", shown,
                                          max_seconds, trim)
    except AudioError as err:
        raise ApiError(400, f"{field}: {err}", param=field, code="audio_invalid") from None
    return wav, sr, shown
