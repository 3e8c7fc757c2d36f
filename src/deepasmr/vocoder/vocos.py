"""A Vocos-style vocoder (Siuzdak, 2023) we can train: ConvNeXt backbone at the mel frame rate, then an
inverse-STFT head that predicts a full-band magnitude and phase per frame.

Why this design for whisper: there is no F0-driven excitation (unlike NSF-HiFiGAN in CosyVoice 2), so
nothing pushes unvoiced frames towards periodicity, and the iSTFT head covers the whole band up to
Nyquist. No weights ship: `kind='vocos'` needs a trained folder (`save_vocos`) unless asked for an
untrained model (`options={'untrained': True}`, for training and tests).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from deepasmr.atomic import atomic_write, write_text_atomic
from deepasmr.audio.features import MEL_PRESETS, MelConfig
from deepasmr.errors import ModelFilesError
from deepasmr.vocoder.base import Vocoder, VocoderConfig, register_vocoder
from deepasmr.vocoder.voicing import PitchHead, VoicingHead

CONFIG_NAME = "vocos.json"
WEIGHTS_NAME = "vocos.safetensors"


@dataclass(frozen=True)
class VocosConfig:
    mel_preset: str = "paper"
    dim: int = 512
    intermediate_dim: int = 1536
    num_layers: int = 8
    kernel_size: int = 7
    # exp() of the predicted log-magnitude is clipped here so an early-training spike cannot overflow.
    max_magnitude: float = 1e2
    layer_norm_eps: float = 1e-6
    # Output styles whose phase is drawn at random instead of predicted (e.g. ("asmr",)); the vocoder is then
    # told the style (Vocoder.generate(mel, style=...)). Whisper has no periodic excitation, so its phase
    # carries nothing to predict; a network made to predict it from the mel settles, trained on reconstruction
    # losses, for a phase that barely moves from frame to frame, which buzzes at the frame rate.
    random_phase_styles: tuple[str, ...] = ()
    # A small head that finds the unvoiced frames of any style from the mel (deepasmr.vocoder.voicing); their
    # phase is drawn at random too. Trained beside the generator on PYIN labels (data.voicing_labels).
    voicing_head: bool = False
    voicing_channels: int = 64
    # A small head that reads F0 from the mel (deepasmr.vocoder.voicing.PitchHead, trained on PYIN's F0); each
    # bin's phase then advances at the harmonic of F0 nearest to it, summed over frames, plus the predicted
    # phase. Training drives it with PYIN's F0 (data.voicing_labels made with F0). As wide as the voicing head.
    pitch_head: bool = False

    @property
    def mel(self) -> MelConfig:
        return MEL_PRESETS[self.mel_preset]

    @property
    def layer_scale_init(self) -> float:
        # Vocos: small residual branches at init (1 / depth) keep the deep stack stable.
        return 1.0 / self.num_layers


VOCOS_PRESETS: dict[str, VocosConfig] = {
    # Vocos' published 24 kHz size (512 dim, 1536 hidden, 8 blocks) on the paper mel (24 kHz, hop 480).
    "paper": VocosConfig(),
    # Same design on the tiny (22.05 kHz, hop 256) mel: a candidate to replace/fine-tune against HiFi-GAN.
    "tiny": VocosConfig(mel_preset="tiny", dim=256, intermediate_dim=768, num_layers=6),
}


class ConvNeXtBlock(nn.Module):
    """Depthwise conv -> LayerNorm -> pointwise MLP (GELU) -> layer scale, residual. Keeps length."""

    def __init__(self, cfg: VocosConfig):
        super().__init__()
        self.dwconv = nn.Conv1d(cfg.dim, cfg.dim, cfg.kernel_size, padding=cfg.kernel_size // 2, groups=cfg.dim)
        self.norm = nn.LayerNorm(cfg.dim, eps=cfg.layer_norm_eps)
        self.pwconv1 = nn.Linear(cfg.dim, cfg.intermediate_dim)
        self.pwconv2 = nn.Linear(cfg.intermediate_dim, cfg.dim)
        self.gamma = nn.Parameter(torch.full((cfg.dim,), cfg.layer_scale_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, dim, T)
        h = self.norm(self.dwconv(x).transpose(1, 2))
        h = self.pwconv2(F.gelu(self.pwconv1(h))) * self.gamma
        return x + h.transpose(1, 2)


class ISTFT(nn.Module):
    """Inverse STFT with "same" padding: T frames -> exactly T * hop samples, aligned with our log-mel
    (which pads (n_fft - hop) / 2 on each side and does not centre). torch.istft(center=True) would give
    (T - 1) * hop samples instead."""

    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:  # (B, n_fft // 2 + 1, T) complex
        frames = torch.fft.irfft(spec, n=self.n_fft, dim=1) * self.window[None, :, None]
        n_frames = frames.shape[-1]
        length = (n_frames - 1) * self.hop + self.n_fft

        def overlap_add(x: torch.Tensor) -> torch.Tensor:
            return F.fold(x, output_size=(1, length), kernel_size=(1, self.n_fft), stride=(1, self.hop))[:, 0, 0]

        wav = overlap_add(frames)
        envelope = overlap_add(self.window.square()[None, :, None].expand(1, -1, n_frames))
        pad = (self.n_fft - self.hop) // 2
        wav, envelope = wav[:, pad : length - pad], envelope[:, pad : length - pad]
        # The window-square envelope is positive everywhere inside the trimmed span (hop <= n_fft / 2).
        return wav / envelope.clamp_min(torch.finfo(wav.dtype).tiny)


class VocosGenerator(nn.Module):
    """(B, n_mels, T) log-mel -> (B, T * hop) waveform."""

    def __init__(self, cfg: VocosConfig = VocosConfig()):
        super().__init__()
        self.cfg = cfg
        mel = cfg.mel
        self.embed = nn.Conv1d(mel.n_mels, cfg.dim, cfg.kernel_size, padding=cfg.kernel_size // 2)
        self.norm_in = nn.LayerNorm(cfg.dim, eps=cfg.layer_norm_eps)
        self.blocks = nn.ModuleList(ConvNeXtBlock(cfg) for _ in range(cfg.num_layers))
        self.norm_out = nn.LayerNorm(cfg.dim, eps=cfg.layer_norm_eps)
        self.head = nn.Linear(cfg.dim, mel.n_fft + 2)  # log-magnitude and phase of n_fft/2+1 bins
        self.istft = ISTFT(mel.n_fft, mel.hop_length)
        self.voicing = VoicingHead(mel.n_mels, cfg.voicing_channels) if cfg.voicing_head else None
        self.pitch = PitchHead(mel.n_mels, cfg.voicing_channels) if cfg.pitch_head else None
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            nn.init.trunc_normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def spectrum(self, mel: torch.Tensor, f0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, n_mels, T) -> the predicted magnitude and phase, each (B, n_fft / 2 + 1, T), before any phase is
        drawn (what a phase or pitch experiment starts from). `f0` (B, T) Hz: drives a pitch head's phase
        instead of its own reading (training)."""
        x = self.norm_in(self.embed(mel).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        h = self.head(self.norm_out(x.transpose(1, 2))).transpose(1, 2)
        log_mag, phase = h.chunk(2, dim=1)
        if self.pitch is not None:
            f0 = self.pitch.hz(mel) if f0 is None else f0
            phase = phase + self._harmonic_phase(f0.detach())
        return torch.exp(log_mag).clamp(max=self.cfg.max_magnitude), phase

    def _harmonic_phase(self, f0: torch.Tensor) -> torch.Tensor:
        """(B, T) F0 in Hz -> (B, bins, T): each bin advancing at the harmonic of F0 nearest its centre, summed
        over frames (float64) and wrapped. Frames without F0 (<= 0, unvoiced) advance at 100 Hz's harmonics:
        their phase is drawn anyway."""
        n_fft, hop, sr = self.cfg.mel.n_fft, self.cfg.mel.hop_length, self.cfg.mel.sample_rate
        f0 = torch.where(f0 > 0, f0, torch.full_like(f0, 100.0)).double()[:, None]
        centres = torch.arange(n_fft // 2 + 1, device=f0.device, dtype=torch.float64)[None, :, None] * sr / n_fft
        harmonic = torch.clamp(torch.round(centres / f0), min=1) * f0
        return (2 * torch.pi * harmonic * hop / sr).cumsum(dim=-1).remainder(2 * torch.pi).to(self.head.weight.dtype)

    def forward(self, mel: torch.Tensor, random_phase: torch.Tensor | None = None,
                f0: torch.Tensor | None = None) -> torch.Tensor:
        """(B, n_mels, T) -> (B, T * hop). random_phase: where the phase is drawn uniformly at random instead
        of predicted: (B,) bool for whole items, or (B, T) bool per frame (`phase_mask`). f0: see `spectrum`."""
        magnitude, phase = self.spectrum(mel, f0)
        if random_phase is not None and bool(random_phase.any()):
            noise = torch.pi * (2 * torch.rand_like(phase) - 1)
            where = random_phase.to(phase.device)
            where = where[:, None, None] if where.dim() == 1 else where[:, None, : phase.shape[-1]]
            phase = torch.where(where, noise, phase)
        return self.istft(torch.polar(magnitude, phase))

    def random_phase_mask(self, styles) -> torch.Tensor | None:
        """(B,) bool for a batch's output styles (None: no style of this model draws its phase)."""
        if not self.cfg.random_phase_styles or styles is None:
            return None
        return torch.tensor([style in self.cfg.random_phase_styles for style in styles])

    def phase_mask(self, mel: torch.Tensor, styles=None) -> torch.Tensor | None:
        """At inference: (B, T) frames whose phase is drawn (the voicing head's unvoiced frames, and every
        frame of a random-phase style), (B,) without a head, None when nothing is drawn."""
        by_style = self.random_phase_mask(styles)
        if self.voicing is None:
            return by_style
        frames = self.voicing(mel) > 0
        return frames if by_style is None else frames | by_style.to(frames.device)[:, None]


def save_vocos(model: VocosGenerator, folder: str | Path, dtype: torch.dtype | None = None) -> Path:
    """Write a loadable folder: vocos.safetensors, then vocos.json (the config), each atomically. `dtype`
    (e.g. torch.float16 for a bundle: half the bytes) casts the floating weights; loading runs in fp32."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", dtype if dtype is not None and v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    atomic_write(folder / WEIGHTS_NAME, lambda tmp: save_file(state, tmp))
    write_text_atomic(folder / CONFIG_NAME, json.dumps(asdict(model.cfg), indent=2))
    return folder


def warm_start(model: VocosGenerator, folder: str | Path, new_voicing_head: bool = False) -> VocosGenerator:
    """Copy a trained folder's weights into `model` (loading, or training on from them); a mismatch is a
    ModelFilesError. `new_voicing_head`: the model's voicing head keeps its init (the folder may have none, or
    one of another width). A folder without a pitch head leaves the model's fresh."""
    weights_path = Path(folder) / WEIGHTS_NAME
    if not weights_path.is_file():
        raise ModelFilesError(f"Vocos warm start: {folder} lacks {WEIGHTS_NAME}")
    state = load_file(str(weights_path))
    if new_voicing_head:
        state = {k: v for k, v in state.items() if not k.startswith("voicing.")}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as err:
        raise ModelFilesError(f"{weights_path}: weights do not fit this Vocos model ({err})") from None
    missing = [k for k in missing if not (new_voicing_head and k.startswith("voicing."))]
    if not any(k.startswith("pitch.") for k in state):  # a folder without a pitch head: the model's starts fresh
        missing = [k for k in missing if not k.startswith("pitch.")]
    if missing or unexpected:
        raise ModelFilesError(f"{weights_path}: weights do not fit this Vocos model "
                              f"(missing {missing[:4]}, unexpected {unexpected[:4]})")
    return model


def load_vocos(folder: str | Path, device: str = "cpu") -> VocosGenerator:
    folder = Path(folder)
    cfg_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    for path in (cfg_path, weights_path):
        if not path.is_file():
            raise ModelFilesError(f"Vocos vocoder folder {folder} lacks {path.name} (write it with save_vocos)")
    try:
        cfg = VocosConfig(**json.loads(cfg_path.read_text()))
        cfg = replace(cfg, random_phase_styles=tuple(cfg.random_phase_styles))  # JSON gives a list
    except (TypeError, ValueError) as err:  # a field this version does not know, or not JSON
        raise ModelFilesError(f"{cfg_path}: not a Vocos config this version reads ({err})") from None
    return warm_start(VocosGenerator(cfg), folder).to(device).eval()


class VocosVocoder(Vocoder):
    kind = "vocos"

    def __init__(self, config: VocoderConfig):
        if config.weights is not None:
            self.model = load_vocos(config.weights, config.device)
        elif config.options.get("untrained"):
            preset = VOCOS_PRESETS[config.model_preset or config.mel_preset]
            self.model = VocosGenerator(replace(preset, mel_preset=config.mel_preset)).to(config.device).eval()
        else:
            raise ModelFilesError(
                "no trained Vocos weights ship with deepasmr: pass weights=FOLDER from a vocoder training run, "
                "or use the pretrained kind='hifigan'"
            )
        if self.model.cfg.mel_preset != config.mel_preset:
            raise ValueError(
                f"these Vocos weights expect mel preset {self.model.cfg.mel_preset!r}, "
                f"not {config.mel_preset!r}: set VocoderConfig(mel_preset=...) to match"
            )
        self.mel_config = self.model.cfg.mel
        self.device = config.device

    def _synthesize(self, mel: torch.Tensor, style: str | None = None, f0: torch.Tensor | None = None) -> torch.Tensor:
        mel = mel.to(self.device)
        mask = self.model.phase_mask(mel, None if style is None else [style] * mel.shape[0])
        if f0 is not None and self.model.pitch is not None and style not in self.model.cfg.random_phase_styles:
            # The caller's pitch instead of the heads' readings: the phase follows it, and the frames it calls
            # unvoiced get random phase (a style drawn whole, e.g. whispers, stays drawn whole).
            f0 = f0.to(self.device)
            mask = f0 <= 0
            with torch.no_grad():
                f0 = torch.where(mask, self.model.pitch.hz(mel), f0)
        return self.model(mel, mask, f0=f0 if self.model.pitch is not None else None).clamp(-1.0, 1.0).cpu()


@register_vocoder("vocos")
def _build(config: VocoderConfig) -> Vocoder:
    return VocosVocoder(config)
