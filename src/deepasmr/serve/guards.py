"""Pure-ASGI middleware run before any route: request metrics, the API key, and the upload size limit.

The size limit is checked twice: a Content-Length over it is refused before a byte is read, and a chunked
body is counted while it streams, so the multipart parser never spools more than the limit to disk.
"""

from __future__ import annotations

import hmac
import time

from starlette.exceptions import HTTPException

from deepasmr.serve.errors import error_response
from deepasmr.serve.metrics import Metrics

# Paths anyone may fetch without the key: liveness and the web page itself (it asks the user for the key).
OPEN_PATHS = ("/health", "/", "/favicon.ico")
OPEN_PREFIXES = ("/web/",)


class BodyTooLarge(HTTPException):
    """Raised from receive(): an HTTPException, so FastAPI's body parsing passes it on instead of a generic 400."""

    def __init__(self, max_bytes: int):
        super().__init__(413, f"the request body is larger than this server's {max_bytes} byte upload limit")


class RequestMetrics:
    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(template, scope.get("method", "?"), status[0], time.perf_counter() - start)


class ApiKeyGuard:
    def __init__(self, app, api_key: str | None):
        self.app, self.key = app, api_key.encode() if api_key else None

    def _allowed(self, scope) -> bool:
        path = scope.get("path", "")
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return True
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-api-key")
        auth = headers.get(b"authorization", b"")
        if given is None and auth[:7].lower() == b"bearer ":
            given = auth[7:].strip()
        return given is not None and hmac.compare_digest(given, self.key)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.key is None or self._allowed(scope):
            return await self.app(scope, receive, send)
        response = error_response(401, "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
                                  code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    def _message(self, size: int) -> str:
        return f"the request body ({size} bytes) is larger than this server's {self.max_bytes} byte upload limit"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                size = -1
            if size < 0:
                return await error_response(400, "the Content-Length header is not a number")(scope, receive, send)
            if size > self.max_bytes:
                return await error_response(413, self._message(size), code="upload_too_large")(scope, receive, send)
        seen, started = [0], [False]

        async def counted_receive():
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, send_wrapper)
        except BodyTooLarge as err:
            if started[0]:
                raise
            await error_response(413, err.detail, code="upload_too_large")(scope, receive, send)
