"""HTTP serving: `deepasmr serve` runs an OpenAI-shaped speech API, voice management, health, metrics and a
web page on FastAPI + uvicorn (see deepasmr.serve.app). Importing this package loads no web framework."""

from importlib import import_module

_EXPORTS = {"ServeConfig": "config", "create_app": "app"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'deepasmr.serve' has no attribute {name!r}")
    value = getattr(import_module(f"deepasmr.serve.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
