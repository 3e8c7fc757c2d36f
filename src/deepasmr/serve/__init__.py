"""HTTP serving: `deepasmr serve` runs an OpenAI-shaped speech API, voice management, health, metrics and a
web page on FastAPI + uvicorn (see deepasmr.serve.app). Importing this package loads no web framework."""

from deepasmr.lazy import lazy_getattr

_EXPORTS = {"ServeConfig": "config", "create_app": "app"}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr("deepasmr.serve", _EXPORTS, globals())
