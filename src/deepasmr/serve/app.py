"""The FastAPI app: routes, OpenAI-shaped errors, middleware, /health, /metrics and the web page.

`create_app(config)` loads the model at startup (lifespan); `create_app(config, engine=...)` shares an already
loaded DeepASMR instead. The interactive /docs page is off: it would pull Swagger UI from a CDN; the schema
is at /openapi.json.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from deepasmr import __version__
from deepasmr.errors import DeepASMRError
from deepasmr.serve import analysis, speech, voices_api
from deepasmr.serve.config import ServeConfig
from deepasmr.serve.encode import available_formats
from deepasmr.serve.errors import ApiError, error_response, from_pipeline, validation_message
from deepasmr.serve.guards import ApiKeyGuard, BodyLimit, RequestMetrics
from deepasmr.serve.metrics import CONTENT_TYPE
from deepasmr.serve.state import ServerState

WEB = Path(__file__).parent / "web"
log = logging.getLogger("deepasmr.serve")


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError):
        return err.response()

    @app.exception_handler(DeepASMRError)
    async def _pipeline_error(request: Request, err: DeepASMRError):
        return from_pipeline(err).response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError):
        errors = err.errors()
        param = next((str(e["loc"][-1]) for e in errors if e.get("loc") and len(e["loc"]) > 1), None)
        return error_response(400, validation_message(errors), param=param, code="invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException):
        message = err.detail if isinstance(err.detail, str) else str(err.detail)
        if err.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path} (the API is described at /openapi.json)"
        elif err.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(err.status_code, message, headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, err: Exception):
        log.exception("deepasmr serve: unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(err).__name__}); the server keeps serving")


def create_app(config: ServeConfig | None = None, engine=None) -> FastAPI:
    config = config or ServeConfig()
    state = ServerState(config, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(state.start)
        try:
            yield
        finally:
            state.stop()

    app = FastAPI(title="DeepASMR", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Zero-shot ASMR (whispered) or normal speech in the voice of a short clip. "
                              "POST /v1/audio/speech takes the OpenAI speech API's request.")
    app.state.server = state
    _install_handlers(app)
    for router in (speech.router, voices_api.router, analysis.router):
        app.include_router(router)

    @app.get("/health", tags=["service"], summary="Liveness and readiness")
    async def health():
        work = state.work
        return {"status": "ok" if state.engine is not None else "degraded", "ready": state.engine is not None,
                "version": __version__, "model": str(state.engine.bundle.root) if state.engine else None,
                "model_error": state.model_error, "default_voice": state.catalog.default is not None,
                "queue": {"depth": work.depth if work else 0, "running": work.running if work else 0,
                          "capacity": config.max_queue, "workers": config.workers},
                "formats": available_formats(), "auth": config.api_key is not None}

    @app.get("/metrics", tags=["service"], summary="Prometheus text-format metrics", response_class=Response)
    async def metrics():
        body = state.metrics.render(state.work, state.engine is not None, len(state.store))
        return Response(body, media_type=CONTENT_TYPE)

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

    @app.get("/v1/limits", tags=["service"], summary="The limits this server enforces")
    async def limits():
        keys = ("max_upload_bytes", "max_clip_seconds", "max_analyze_seconds", "max_text_chars",
                "max_transcript_chars", "max_steps", "max_iterations", "max_candidates", "max_voices", "min_speed",
                "max_speed", "max_queue", "workers", "request_timeout_s")
        return JSONResponse({k: getattr(config, k) for k in keys} | {"formats": available_formats()})

    app.mount("/web", StaticFiles(directory=WEB), name="web")
    # Outermost first: metrics see every answer (401 and 413 included), then the key, then the size limit.
    app.add_middleware(BodyLimit, max_bytes=config.max_upload_bytes)
    app.add_middleware(ApiKeyGuard, api_key=config.api_key)
    app.add_middleware(RequestMetrics, metrics=state.metrics)
    return app
