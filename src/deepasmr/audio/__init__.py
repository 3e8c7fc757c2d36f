"""Audio core: loading with validation, atomic saving, and the one log-mel definition.

Names resolve lazily (PEP 562) so that worker processes needing only file I/O do not import torch.
"""

from deepasmr.lazy import lazy_getattr

_EXPORTS = {
    "MEL_PRESETS": "features",
    "MelConfig": "features",
    "log_mel": "features",
    "num_frames": "features",
    "AudioLimits": "io",
    "load_audio": "io",
    "loudness_normalize": "io",
    "resample": "io",
    "save_audio": "io",
    "trim_silence": "io",
    "validate_audio": "io",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr("deepasmr.audio", _EXPORTS, globals())
