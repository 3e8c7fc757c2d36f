"""The one log-mel definition every stage uses (tokenizer, flow decoder, vocoder, analysis).

The `tiny` preset matches the pretrained HiFi-GAN V1 "universal" generator (jik876/hifi-gan's
`mel_spectrogram`): reflect padding of (n_fft - hop) / 2, no centring, magnitude (not power) STFT,
Slaney mel filterbank, natural log of the magnitude clamped at 1e-5. One frame per `hop` samples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import librosa
import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int = 22_050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8_000.0
    log_floor: float = 1e-5

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length

    def to_dict(self) -> dict:
        return asdict(self)


MEL_PRESETS: dict[str, MelConfig] = {
    # Embedded default: the offline HiFi-GAN universal vocoder's features (86.13 frames/s).
    "tiny": MelConfig(),
    # Paper scale (CosyVoice 2 style 24 kHz, 50 frames/s = two frames per 25 Hz speech token).
    "paper": MelConfig(sample_rate=24_000, n_fft=1920, hop_length=480, win_length=1920),
}


@lru_cache(maxsize=8)
def _mel_basis(cfg: MelConfig) -> torch.Tensor:
    basis = librosa.filters.mel(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    return torch.from_numpy(basis).float()


def num_frames(num_samples: int, cfg: MelConfig) -> int:
    return num_samples // cfg.hop_length


def log_mel(wav: np.ndarray | torch.Tensor, cfg: MelConfig = MEL_PRESETS["tiny"]) -> torch.Tensor:
    """(samples,) or (batch, samples) waveform at cfg.sample_rate -> (…, n_mels, frames) log-mel."""
    x = torch.as_tensor(wav, dtype=torch.float32)
    squeeze = x.dim() == 1
    if squeeze:
        x = x.unsqueeze(0)
    pad = (cfg.n_fft - cfg.hop_length) // 2
    x = F.pad(x.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(
        x,
        cfg.n_fft,
        hop_length=cfg.hop_length,
        win_length=cfg.win_length,
        window=torch.hann_window(cfg.win_length, device=x.device),
        center=False,
        return_complex=True,
    )
    magnitude = torch.sqrt(spec.real**2 + spec.imag**2 + 1e-9)
    mel = torch.matmul(_mel_basis(cfg).to(x.device), magnitude)
    out = torch.log(torch.clamp(mel, min=cfg.log_floor))
    return out[0] if squeeze else out
