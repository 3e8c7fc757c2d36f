"""Speech tokens -> which mel frames are voiced and at what pitch, relative to the speaker's register.

Why: the flow decoder told F0 renders normal speech's harmonics (deepasmr.flow.pitch), but at synthesis there
is no ground truth to read F0 from. The tokens say which sounds are voiced and where the stresses fall; the
speaker's register (mean log F0 of their own clip, `speaker_register`) says how high. So the network predicts
voicing and the offset from the register in octaves, and `generate` adds the register back.

Training (`forward(batch) -> loss`): binary cross-entropy on voicing over every frame, plus L1 in octaves on
the frames the labels call voiced; the register is the utterance's own mean.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from deepasmr.atomic import atomic_write
from deepasmr.errors import ModelFilesError

CONFIG_NAME = "pitch.json"
WEIGHTS_NAME = "pitch.safetensors"


@dataclass(frozen=True)
class PitchConfig:
    vocab_size: int = 1000
    token_ratio: int = 4  # mel frames per token, as the flow decoder's
    dim: int = 128
    # Dilated residual convolutions at the token rate: with kernel 5 and dilations 1, 2, 4, 8 a frame sees
    # ±30 tokens (~1.4 s at 21.5 Hz), about a phrase: enough for declination and stress.
    layers: int = 4
    kernel: int = 5
    dropout: float = 0.1
    centre_hz: float = 150.0  # octaves are counted from here
    # A clip is a usable register source when at least this share of its frames is voiced (whispers are not).
    min_voiced_share: float = 0.15
    # A frame is voiced when its logit exceeds this. The labels are WORLD's, which calls fewer frames voiced than
    # PYIN (the R_UV analysis); `deepasmr.pitch.calibrate` sets it so the predicted voiced share matches PYIN's.
    voiced_threshold: float = 0.0

    @classmethod
    def from_dict(cls, d: dict) -> PitchConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown PitchConfig fields: {sorted(unknown)}")
        return cls(**d)


def octaves(f0: torch.Tensor, centre_hz: float) -> torch.Tensor:
    """log2(f0 / centre) where voiced (f0 > 0), 0 elsewhere."""
    return torch.where(f0 > 0, torch.log2(f0.clamp(min=1.0) / centre_hz), torch.zeros_like(f0))


def speaker_register(f0: np.ndarray | torch.Tensor, cfg: PitchConfig) -> float | None:
    """Mean pitch of a clip in octaves from centre_hz (its voiced frames), or None when too little of it is
    voiced to say (a whisper)."""
    f0 = torch.as_tensor(f0, dtype=torch.float32)
    voiced = f0 > 0
    if f0.numel() == 0 or float(voiced.float().mean()) < cfg.min_voiced_share:
        return None
    return float(octaves(f0[voiced], cfg.centre_hz).mean())


def clip_register(wav: np.ndarray, mel, cfg: PitchConfig) -> float | None:
    """`speaker_register` of a clip at `mel.sample_rate` (MelConfig), from WORLD's F0 at the mel's frame rate."""
    from deepasmr.vocoder.voicing import world_f0

    return speaker_register(world_f0(wav, mel.sample_rate, mel), cfg)


class _Residual(nn.Module):
    def __init__(self, dim: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # x [B, N, D], mask [B, N]
        h = self.conv((x * mask[..., None]).transpose(1, 2)).transpose(1, 2)
        return x + self.drop(F.gelu(self.norm(h)))


class PitchPredictor(nn.Module):
    def __init__(self, cfg: PitchConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or PitchConfig()
        self.embed = nn.Embedding(cfg.vocab_size + 1, cfg.dim)  # the last row: padding
        self.blocks = nn.ModuleList(_Residual(cfg.dim, cfg.kernel, 2**i, cfg.dropout) for i in range(cfg.layers))
        self.out = nn.Linear(cfg.dim, 2 * cfg.token_ratio)  # per token: ratio frames x (voiced logit, octaves)

    def _frames(self, tokens: torch.Tensor, token_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens [B, N] -> (voiced logits, octave offsets), each [B, N x ratio]."""
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None] < token_lens[:, None]
        x = self.embed(torch.where(mask, tokens, self.cfg.vocab_size))
        for block in self.blocks:
            x = block(x, mask)
        out = self.out(x).reshape(tokens.shape[0], -1, self.cfg.token_ratio, 2).flatten(1, 2)
        return out[..., 0], out[..., 1]

    def forward(self, batch: dict) -> torch.Tensor:
        """batch: tokens [B, N], token_lens [B], f0 [B, N x ratio] Hz labels (0 unvoiced)."""
        r = self.cfg.token_ratio
        logits, offset = self._frames(batch["tokens"], batch["token_lens"])
        f0 = batch["f0"][:, : logits.shape[1]]
        valid = torch.arange(f0.shape[1], device=f0.device)[None] < (batch["token_lens"] * r)[:, None]
        voiced = (f0 > 0) & valid
        bce = F.binary_cross_entropy_with_logits(logits[valid], voiced[valid].float())
        target = octaves(f0, self.cfg.centre_hz)
        register = (target * voiced).sum(1, keepdim=True) / voiced.sum(1, keepdim=True).clamp(min=1)
        l1 = ((offset - (target - register)).abs() * voiced).sum() / voiced.sum().clamp(min=1)
        return bce + l1

    @torch.no_grad()
    def predict(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens [N] -> (voicing logits, octave offsets from the register), each [N x ratio], in eval mode
        (a frame is voiced when its logit is above cfg.voiced_threshold)."""
        was_training = self.training
        self.eval()
        logits, offset = self._frames(tokens.long().reshape(1, -1), torch.tensor([tokens.numel()]))
        self.train(was_training)
        return logits[0], offset[0]

    def generate(self, tokens: torch.Tensor, register: float) -> torch.Tensor:
        """tokens [N] -> F0 in Hz per mel frame [N x ratio] (0 where predicted unvoiced), around `register`
        (octaves from centre_hz, `speaker_register`)."""
        logits, offset = self.predict(tokens)
        hz = self.cfg.centre_hz * torch.exp2(register + offset)
        return torch.where(logits > self.cfg.voiced_threshold, hz, torch.zeros_like(hz))


def save_pitch(model: PitchPredictor, out_dir: str | Path, dtype: torch.dtype = torch.float32) -> Path:
    """Config + weights (fp32 by default; torch.float16 for a bundle), each written atomically, config last.
    Loading runs the predictor in fp32."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    atomic_write(out / WEIGHTS_NAME, lambda tmp: save_file(state, tmp))
    atomic_write(out / CONFIG_NAME, lambda tmp: Path(tmp).write_text(json.dumps(asdict(model.cfg), indent=1) + "\n"))
    return out


def load_pitch(bundle_dir: str | Path) -> PitchPredictor:
    root = Path(bundle_dir)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (root / name).is_file():
            raise ModelFilesError(f"{root / name}: missing F0 predictor file")
    model = PitchPredictor(PitchConfig.from_dict(json.loads((root / CONFIG_NAME).read_text())))
    model.load_state_dict(load_file(str(root / WEIGHTS_NAME)))
    return model.eval()
