"""Griffin-Lim inversion of the log-mel: a debugging vocoder only (phasey, metallic), chosen explicitly
with `kind='griffinlim'` and never used as a fallback when a real vocoder is missing."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch

from deepasmr.vocoder.base import Vocoder, VocoderConfig, register_vocoder


@dataclass(frozen=True)
class GriffinLimConfig:
    n_iter: int = 32
    # Momentum 0.99 is librosa's "fast Griffin-Lim" default.
    momentum: float = 0.99


class GriffinLimVocoder(Vocoder):
    kind = "griffinlim"

    def __init__(self, config: VocoderConfig):
        self.mel_config = config.mel
        self.cfg = GriffinLimConfig(**config.options)

    def _synthesize(self, mel: torch.Tensor, style: str | None = None, f0: torch.Tensor | None = None) -> torch.Tensor:
        m = self.mel_config
        out = []
        for item in mel.cpu().numpy():
            # The log-mel is log(mel magnitude): undo the log, then the filterbank (non-negative least squares).
            magnitude = librosa.feature.inverse.mel_to_stft(
                np.exp(item), sr=m.sample_rate, n_fft=m.n_fft, power=1.0, fmin=m.fmin, fmax=m.fmax
            )
            wav = librosa.griffinlim(
                magnitude,
                n_iter=self.cfg.n_iter,
                momentum=self.cfg.momentum,
                hop_length=m.hop_length,
                win_length=m.win_length,
                center=True,
                random_state=0,
            )
            # Our frames are not centred: frame t covers samples around t*hop + hop/2, and there are
            # exactly T*hop samples. Shift by half a hop and pad to that length.
            target = item.shape[-1] * m.hop_length
            wav = np.pad(wav, (m.hop_length // 2, 0))[:target]
            wav = np.pad(wav, (0, target - wav.size))
            out.append(np.clip(wav, -1.0, 1.0))
        return torch.from_numpy(np.stack(out)).float()


@register_vocoder("griffinlim")
def _build(config: VocoderConfig) -> Vocoder:
    return GriffinLimVocoder(config)
