"""Lazy package exports: a package names what it re-exports, and the submodule is imported on first use, so
importing the package (e.g. by the CLI for `--help`) loads no heavy library."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def lazy_getattr(package: str, exports: dict[str, str], namespace: dict) -> Callable[[str], object]:
    """A module `__getattr__` resolving `name` from `package.<exports[name]>` and caching it in `namespace`."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{exports[name]}"), name)
        namespace[name] = value
        return value

    return __getattr__
