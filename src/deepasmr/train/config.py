"""Typed training configs shared by every stage, and YAML / `--set key=value` loading onto them.

A stage config is a dataclass whose fields include `trainer: TrainerConfig` and `optim: OptimConfig`
(plus the stage's own `model` / `data` sections). A YAML file names a preset (`preset: tiny`) and overrides
any field; `--set trainer.max_steps=50` overrides last. Unknown keys are errors, not silently ignored.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deepasmr.errors import DeepASMRError


class ConfigError(DeepASMRError, ValueError):
    """A config file or override that does not fit the stage's config dataclass."""


@dataclass
class TrainerConfig:
    out_dir: str = "runs/default"
    accelerator: str = "auto"  # "cpu", "gpu", "auto"
    devices: Any = 1  # int or "auto"
    num_nodes: int = 1
    strategy: str = "auto"  # "ddp" for N GPUs / CPU processes, "fsdp" for the paper-scale LM
    precision: str = "auto"  # auto: bf16-mixed where the GPU or CPU (AMX / AVX-512 BF16) has bf16, else 32-true
    max_steps: int = 1000  # optimizer steps
    max_minutes: float = 0.0  # wall-clock stop (0 = none); the LR schedule still follows max_steps
    accumulate_grad_batches: int = 1
    grad_clip: float = 1.0
    seed: int = 1234
    num_threads: int = 0  # torch intra-op threads per process (0 = torch's default)
    log_every_n_steps: int = 10
    ckpt_every_n_steps: int = 200
    keep_checkpoints: int = 3
    val_every_n_steps: int = 0  # 0 = no validation
    val_batches: int = 20
    progress_bar: bool = True
    deterministic: bool = False


@dataclass
class OptimConfig:
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    weight_decay: float = 0.01
    warmup_steps: int = 500
    schedule: str = "cosine"  # cosine | linear | constant | inverse_sqrt
    min_lr_ratio: float = 0.05  # floor of the decay, as a share of lr


@dataclass
class BatchConfig:
    """Dynamic batching by total (padded) frames per rank, the paper's 23,000-frame batches."""

    max_frames: int = 23_000
    max_batch_size: int = 0  # 0 = no cap besides max_frames
    num_workers: int = 0
    shuffle: bool = True


def _resolve_type(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else Any
    return tp


def _allows_none(tp: Any) -> bool:
    return tp is Any or (typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    if value is None and _allows_none(tp):
        return None
    tp = _resolve_type(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        out = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML 1.1 reads "3e-3" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


def from_dict(cls: type, data: dict, where: str = "config") -> Any:
    """Build dataclass `cls` from a nested dict, checking names and types."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(names)}")
    return cls(**{k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()})


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_overrides(items: list[str]) -> dict:
    """["a.b=3", "c=[1,2]"] -> {"a": {"b": 3}, "c": [1, 2]} (values parsed as YAML)."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(raw)
    return out


def load_config(cls: type, presets: dict, path: str | Path | None = None, overrides: list[str] = ()) -> Any:
    """Preset (named in the YAML's `preset:` key or by `--set preset=...`, default `tiny`) <- YAML <- overrides."""
    data: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
    data = _merge(data, parse_overrides(list(overrides)))
    preset = data.pop("preset", "tiny")
    if preset not in presets:
        raise ConfigError(f"unknown preset {preset!r}; known: {sorted(presets)}")
    base = dataclasses.asdict(presets[preset]())
    return from_dict(cls, _merge(base, data))


def to_yaml(cfg: Any) -> str:
    def plain(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        return x

    return yaml.safe_dump(plain(dataclasses.asdict(cfg)), sort_keys=False)


__all__ = [
    "BatchConfig",
    "ConfigError",
    "OptimConfig",
    "TrainerConfig",
    "from_dict",
    "load_config",
    "parse_overrides",
    "to_yaml",
]
