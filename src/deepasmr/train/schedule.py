"""Learning-rate multipliers: linear warm-up, then a decay chosen by name."""

from __future__ import annotations

import math
from collections.abc import Callable

from deepasmr.train.config import ConfigError, OptimConfig


def lr_lambda(cfg: OptimConfig, max_steps: int) -> Callable[[int], float]:
    warmup = max(cfg.warmup_steps, 0)
    floor = cfg.min_lr_ratio

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if cfg.schedule == "constant":
            return 1.0
        if cfg.schedule == "inverse_sqrt":
            return max(floor, math.sqrt(max(warmup, 1) / (step + 1)))
        progress = min(1.0, (step - warmup) / max(1, max_steps - warmup))
        if cfg.schedule == "linear":
            return floor + (1 - floor) * (1 - progress)
        if cfg.schedule == "cosine":
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
        raise ConfigError(f"optim.schedule: unknown {cfg.schedule!r} (cosine, linear, constant, inverse_sqrt)")

    return factor
