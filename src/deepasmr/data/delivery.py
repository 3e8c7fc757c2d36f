"""ASMR delivery traits applied after the voice transform, and the level of each style.

- Close-mic brightness: a gentle RBJ high-shelf (+gain above ~4 kHz), standing in for the presence lift a
  microphone a few centimetres from the mouth gives breath and fricatives.
- Softer level: ASMR is normalised several dB below normal speech (the loudness target differs by style).
- Slower pace is a time stretch inside the WORLD transform (see world_fx.VoiceTransform.stretch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DeliveryConfig:
    normal_dbfs: float = -23.0
    # ASMR is spoken softly: 8 dB below normal.
    asmr_dbfs: float = -31.0
    # ASMR pace: 18 % slower than the same speaker's normal style.
    asmr_stretch: float = 1.18
    shelf_hz: float = 4000.0
    shelf_gain_db: float = 4.0
    shelf_slope: float = 0.7


def high_shelf(wav: np.ndarray, sr: int, freq: float, gain_db: float, slope: float) -> np.ndarray:
    """RBJ audio-EQ-cookbook high-shelf biquad."""
    from scipy.signal import lfilter

    a_gain = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * min(freq, 0.45 * sr) / sr
    alpha = np.sin(w0) / 2 * np.sqrt((a_gain + 1 / a_gain) * (1 / slope - 1) + 2)
    cos_w0, sq = np.cos(w0), 2 * np.sqrt(a_gain) * alpha
    b = np.array([
        a_gain * ((a_gain + 1) + (a_gain - 1) * cos_w0 + sq),
        -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos_w0),
        a_gain * ((a_gain + 1) + (a_gain - 1) * cos_w0 - sq),
    ])
    a = np.array([
        (a_gain + 1) - (a_gain - 1) * cos_w0 + sq,
        2 * ((a_gain - 1) - (a_gain + 1) * cos_w0),
        (a_gain + 1) - (a_gain - 1) * cos_w0 - sq,
    ])
    return lfilter(b / a[0], a / a[0], wav).astype(np.float32)


def finish(wav: np.ndarray, sr: int, style: str, cfg: DeliveryConfig = DeliveryConfig()) -> np.ndarray:
    """Brightness (ASMR only) and the style's loudness target."""
    from deepasmr.audio import loudness_normalize

    if style == "asmr":
        wav = high_shelf(wav, sr, cfg.shelf_hz, cfg.shelf_gain_db, cfg.shelf_slope)
    target = cfg.asmr_dbfs if style == "asmr" else cfg.normal_dbfs
    return loudness_normalize(wav, target_dbfs=target)
