"""The vocoder interface (mel -> waveform) and a registry of vocoder kinds.

Every kind turns a log-mel made by `deepasmr.audio.log_mel` with its `mel_config` into a waveform at
`sample_rate`. Kinds register themselves with `register_vocoder`; `load_vocoder` builds one from a
`VocoderConfig`. Only the kind the user names is built: there is no silent fallback between kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from deepasmr.audio.features import MEL_PRESETS, MelConfig

DEFAULT_KIND = "hifigan"


@dataclass(frozen=True)
class VocoderConfig:
    """Which vocoder to build. `weights=None` means the kind's shipped weights (if it has any)."""

    kind: str = DEFAULT_KIND
    mel_preset: str = "tiny"
    # Model-size preset for trainable kinds (e.g. Vocos 'paper'); ignored by kinds with a fixed design.
    model_preset: str | None = None
    weights: str | Path | None = None
    device: str = "cpu"
    # Extra per-kind options (e.g. Griffin-Lim iterations).
    options: dict = field(default_factory=dict)

    @property
    def mel(self) -> MelConfig:
        if self.mel_preset not in MEL_PRESETS:
            raise ValueError(f"unknown mel preset {self.mel_preset!r}; choose from {sorted(MEL_PRESETS)}")
        return MEL_PRESETS[self.mel_preset]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["weights"] = None if self.weights is None else str(self.weights)
        return out


class Vocoder:
    """Base class: subclasses set `mel_config` and implement `_synthesize(mel[B, n_mels, T], style, f0) -> [B, samples]`
    (`style`: the output's style, "asmr" / "normal" / None, for a vocoder that treats them differently; `f0`:
    [B, T] Hz per frame when the caller knows the pitch, for a vocoder that can follow it)."""

    kind: str = ""
    mel_config: MelConfig

    @property
    def sample_rate(self) -> int:
        return self.mel_config.sample_rate

    @property
    def hop_length(self) -> int:
        return self.mel_config.hop_length

    def _synthesize(self, mel: torch.Tensor, style: str | None = None, f0: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    @torch.inference_mode()
    def generate(self, mel: torch.Tensor, style: str | None = None, f0: torch.Tensor | None = None) -> torch.Tensor:
        """(n_mels, T) or (B, n_mels, T) log-mel -> (samples,) or (B, samples) waveform in [-1, 1]. `style`:
        the output's style when known (a Vocos with random_phase_styles draws those styles' phase). `f0`: (T,)
        or (B, T) Hz per frame, 0 unvoiced, when the caller knows the pitch (the F0 the decoder was told): a Vocos
        with a pitch head follows it and voices exactly its voiced frames; other vocoders ignore it."""
        mel = torch.as_tensor(mel, dtype=torch.float32)
        squeeze = mel.dim() == 2
        if squeeze:
            mel = mel.unsqueeze(0)
            f0 = None if f0 is None else torch.as_tensor(f0).reshape(1, -1)
        if f0 is not None and tuple(f0.shape) != (mel.shape[0], mel.shape[-1]):
            raise ValueError(f"f0 {tuple(f0.shape)} must give one value per mel frame {(mel.shape[0], mel.shape[-1])}")
        if mel.dim() != 3 or mel.shape[1] != self.mel_config.n_mels:
            raise ValueError(
                f"{self.kind} vocoder expects a (batch?, {self.mel_config.n_mels}, frames) log-mel, "
                f"got shape {tuple(mel.shape)}"
            )
        wav = self._synthesize(mel, style, None if f0 is None else f0.float())
        return wav[0] if squeeze else wav


VocoderFactory = Callable[[VocoderConfig], Vocoder]
_REGISTRY: dict[str, VocoderFactory] = {}


def register_vocoder(kind: str) -> Callable[[VocoderFactory], VocoderFactory]:
    """Decorator: make `load_vocoder(VocoderConfig(kind=...))` build this kind."""

    def wrap(factory: VocoderFactory) -> VocoderFactory:
        _REGISTRY[kind] = factory
        return factory

    return wrap


def vocoder_kinds() -> list[str]:
    _import_builtin_kinds()
    return sorted(_REGISTRY)


def _import_builtin_kinds() -> None:
    # Importing the modules runs their @register_vocoder decorators.
    from deepasmr.vocoder import griffinlim, hifigan, vocos  # noqa: F401


def load_vocoder(config: VocoderConfig | str | None = None) -> Vocoder:
    """Build the vocoder `config` names (a kind name alone uses that kind's defaults)."""
    if config is None:
        config = VocoderConfig()
    elif isinstance(config, str):
        config = VocoderConfig(kind=config)
    _import_builtin_kinds()
    if config.kind not in _REGISTRY:
        raise ValueError(f"unknown vocoder kind {config.kind!r}; choose from {sorted(_REGISTRY)}")
    return _REGISTRY[config.kind](config)
