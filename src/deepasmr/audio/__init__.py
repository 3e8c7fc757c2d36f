"""Audio core: loading with validation, atomic saving, and the one log-mel definition."""

from deepasmr.audio.features import MEL_PRESETS, MelConfig, log_mel, num_frames
from deepasmr.audio.io import (
    AudioLimits,
    load_audio,
    loudness_normalize,
    resample,
    save_audio,
    trim_silence,
    validate_audio,
)

__all__ = [
    "MEL_PRESETS",
    "AudioLimits",
    "MelConfig",
    "load_audio",
    "log_mel",
    "loudness_normalize",
    "num_frames",
    "resample",
    "save_audio",
    "trim_silence",
    "validate_audio",
]
