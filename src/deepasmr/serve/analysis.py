"""Spectrogram + F0 pictures (deepasmr.eval.analyze): of any uploaded clip (the web page sends the speech it
got back) and of a voice's prompt clip (cached under <data_dir>/plots). PYIN is CPU work, so it runs on the
work queue like synthesis and shares its bound."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response

from deepasmr.serve.errors import ApiError
from deepasmr.serve.uploads import read_clip

router = APIRouter(tags=["analysis"])
PNG = {"content": {"image/png": {}}, "description": "PNG: log-mel spectrogram and F0 track with voicing shading."}


def render_png(wav: np.ndarray, sr: int, title: str, out: Path | None = None) -> tuple[bytes, dict]:
    """PNG bytes and the analysis summary (duration, R_UV, style verdict ...); written to `out` when given."""
    from deepasmr.eval.analyze import analyze_wave, plot_analysis

    result, track = analyze_wave(np.asarray(wav, dtype=np.float32), sr, title)
    if out is not None:
        plot_analysis(wav, sr, track, result, out)
        return out.read_bytes(), result
    with tempfile.TemporaryDirectory(prefix="deepasmr-plot-") as tmp:
        png = plot_analysis(wav, sr, track, result, Path(tmp) / "plot.png")
        return png.read_bytes(), result


def _headers(result: dict) -> dict[str, str]:
    keep = {k: result.get(k) for k in ("duration_s", "r_uv", "style", "sample_rate")}
    return {"X-DeepASMR-Analysis": json.dumps(keep), "Cache-Control": "no-store"}


@router.post("/v1/analyze", responses={200: PNG}, response_class=Response,
             summary="Spectrogram + F0 PNG of an uploaded clip (summary in the X-DeepASMR-Analysis header)")
async def analyze(request: Request, file: Annotated[UploadFile, File(description="the clip to draw")]):
    st = request.app.state.server
    wav, sr, shown = await read_clip(file, max_seconds=st.config.max_analyze_seconds, trim=False)
    png, result = await st.run_job(lambda: render_png(wav, sr, shown))
    return Response(png, media_type="image/png", headers=_headers(result))


def plot_cache_path(st, voice_id: str) -> Path:
    """Only uploaded voices are cached (their ids are never reused); bundled clips are drawn each time."""
    return st.config.plots_dir / f"{voice_id}.png"


@router.get("/v1/voices/{voice_id}/plot.png", responses={200: PNG}, response_class=Response, tags=["voices"],
            summary="Spectrogram + F0 PNG of a voice's prompt clip")
async def voice_plot(request: Request, voice_id: str):
    from starlette.concurrency import run_in_threadpool

    st = request.app.state.server
    ref = st.catalog.resolve(voice_id)
    cached = plot_cache_path(st, ref.id) if ref.kind == "uploaded" else None
    if cached is not None and cached.is_file():
        return Response(cached.read_bytes(), media_type="image/png", headers={"Cache-Control": "no-store"})

    def load():
        from deepasmr.audio import load_audio

        return load_audio(ref.clip, trim=False)

    try:
        wav, sr = await run_in_threadpool(load)
    except Exception as err:  # a bundled clip that went missing: say which
        raise ApiError(400, f"voice {voice_id!r}: its clip cannot be read ({err})", param="voice") from None
    png, result = await st.run_job(lambda: render_png(wav, sr, f"prompt {ref.id}", cached))
    return Response(png, media_type="image/png", headers=_headers(result))
