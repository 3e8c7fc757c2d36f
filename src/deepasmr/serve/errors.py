"""API errors in the OpenAI shape: `{"error": {"message", "type", "param", "code"}}` with a fitting status.

Every failure a client can cause is a 4xx with a message saying what to change; the pipeline's own errors
(deepasmr.errors) map onto them here, in one place.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from deepasmr.errors import DeepASMRError, ModelFilesError

# status -> OpenAI error type
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          409: "conflict_error", 413: "invalid_request_error", 415: "invalid_request_error",
          429: "rate_limit_error", 503: "server_error", 504: "timeout_error"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, code=self.code, param=self.param, headers=self.headers)


def error_response(status: int, message: str, *, code: str | None = None, param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def from_pipeline(err: DeepASMRError) -> ApiError:
    """A pipeline error -> 400 (the request's text, clip or settings), or 503 (the server's model files)."""
    if isinstance(err, ModelFilesError):
        return ApiError(503, f"the model is not available: {err}", code="model_unavailable")
    return ApiError(400, str(err), code=type(err).__name__.replace("Error", "").lower() + "_invalid")


def validation_message(errors: list[dict]) -> str:
    """pydantic's error list -> one line naming each bad field: 'speed: Input should be ...; voice: ...'."""
    parts = []
    for err in errors:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "form")]
        where = ".".join(loc) or "body"
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        elif err.get("type") == "missing":
            msg = "required"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts) or "invalid request"
