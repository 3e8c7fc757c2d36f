"""One vocoder per output style, chosen by the style the pipeline asks for.

Why: the two styles want opposite things from a vocoder. A whisper has no pitch, and our Vocos draws its
phase at random there, which keeps it unvoiced. Normal speech needs the pitch carried through, and a
Vocos that predicts its phase on CPU-sized training has not learnt that for every voice: on some it
voices the frames at its own frame rate (86 Hz) whatever the speaker's F0 (`vocoder.measure` reports the
gross pitch error). The pretrained HiFi-GAN keeps the pitch. A bundle may therefore name a vocoder per style:

    "vocoder": {"asmr": {"kind": "vocos", "weights": "vocoder"}, "normal": {"kind": "hifigan"}}
"""

from __future__ import annotations

from pathlib import Path

import torch

from deepasmr.vocoder.base import Vocoder, VocoderConfig, load_vocoder

STYLES = ("normal", "asmr")


class StyleRoutedVocoder(Vocoder):
    kind = "by_style"

    def __init__(self, vocoders: dict[str, Vocoder]) -> None:
        if set(vocoders) != set(STYLES):
            raise ValueError(f"a vocoder per style needs exactly {STYLES}, got {sorted(vocoders)}")
        mels = {style: v.mel_config for style, v in vocoders.items()}
        if len({(m.sample_rate, m.n_mels, m.hop_length) for m in mels.values()}) != 1:
            raise ValueError(f"the styles' vocoders read different mels: {mels}")
        self.vocoders = vocoders
        self.mel_config = vocoders["normal"].mel_config

    def _synthesize(self, mel: torch.Tensor, style: str | None = None, f0: torch.Tensor | None = None) -> torch.Tensor:
        # Unknown style (a debugging call without one): the normal-speech vocoder, the one that keeps pitch.
        return self.vocoders[style if style in STYLES else "normal"]._synthesize(mel, style, f0)


def _config(entry: dict, root: Path) -> VocoderConfig:
    """A bundle.json vocoder entry -> VocoderConfig; relative weights are read from the bundle folder."""
    if entry.get("weights") and not Path(entry["weights"]).is_absolute():
        entry = {**entry, "weights": root / entry["weights"]}
    return VocoderConfig(**entry)


def vocoder_from_entry(entry: dict | None, root: Path) -> Vocoder:
    """bundle.json's "vocoder": absent (the default HiFi-GAN), a kind, one entry, or one entry per style.
    TypeError/ValueError on a malformed entry (the bundle loader names the file)."""
    if entry is None or isinstance(entry, str):  # a kind name alone
        return load_vocoder(entry)
    if not isinstance(entry, dict):
        raise TypeError("expected an object or a vocoder kind")
    if set(entry) & set(STYLES):
        if set(entry) - set(STYLES):
            raise ValueError(f"a vocoder per style takes the keys {STYLES}, not {sorted(set(entry) - set(STYLES))}")
        return StyleRoutedVocoder({style: load_vocoder(_config(entry.get(style) or {}, root)) for style in STYLES})
    return load_vocoder(_config(entry, root))
