"""Stage name -> how to build its config, data, model and exported weights.

To add a stage (lm, flow, vocoder), write `deepasmr/<stage>/stage.py` with a `SPEC = StageSpec(...)` and add one
line to `STAGES` below (or call `register_stage` from a plugin). Entries are import paths so that
`deepasmr train --help` does not import every stage's model code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepasmr.train.config import ConfigError

STAGES: dict[str, str] = {
    "tokenizer": "deepasmr.tokenizer.stage:SPEC",
    "lm": "deepasmr.lm.stage:SPEC",
    "flow": "deepasmr.flow.stage:SPEC",
    "vocoder": "deepasmr.vocoder.stage:SPEC",
    "pitch": "deepasmr.pitch.stage:SPEC",
    "toy": "deepasmr.train.toy:SPEC",  # a seconds-fast stage for tests and as a template
}

_LOADED: dict[str, StageSpec] = {}


@dataclass(frozen=True)
class StageSpec:
    name: str
    config_cls: type  # dataclass with `trainer: TrainerConfig` and `optim: OptimConfig` fields
    presets: dict[str, Callable[[], Any]]  # preset name -> config instance ("tiny", "paper")
    build_data: Callable[[Any], Any]  # cfg -> LightningDataModule (see train.data.FrameDataModule)
    build_model: Callable[[Any, Any], Any]  # (cfg, datamodule) -> nn.Module with forward(batch) -> {"loss": ...}
    export: Callable[[Any, Any, Any, Path], None] | None = None  # (model, cfg, datamodule, out_dir)
    description: str = ""
    extra: dict = field(default_factory=dict)


def register_stage(spec: StageSpec) -> None:
    _LOADED[spec.name] = spec


def stage_names() -> list[str]:
    return sorted(set(STAGES) | set(_LOADED))


def get_stage(name: str) -> StageSpec:
    if name in _LOADED:
        return _LOADED[name]
    if name not in STAGES:
        raise ConfigError(f"unknown training stage {name!r}; known: {', '.join(stage_names())}")
    module_name, attr = STAGES[name].split(":")
    spec = getattr(importlib.import_module(module_name), attr)
    _LOADED[name] = spec
    return spec
