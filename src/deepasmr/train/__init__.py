"""One Lightning training entry for every stage: `deepasmr train STAGE --config FILE`."""

from deepasmr.train.config import BatchConfig, ConfigError, OptimConfig, TrainerConfig, load_config
from deepasmr.train.registry import STAGES, StageSpec, get_stage, register_stage

__all__ = [
    "STAGES",
    "BatchConfig",
    "ConfigError",
    "OptimConfig",
    "StageSpec",
    "TrainerConfig",
    "get_stage",
    "load_config",
    "register_stage",
]
