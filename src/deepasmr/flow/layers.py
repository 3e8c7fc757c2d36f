"""Building blocks of the velocity transformer: time embedding, rotary attention, adaLN blocks,
convolutional position embedding and the token encoder.

Padding convention: `mask` is a bool tensor [B, L], True on real frames.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class SinusoidalEmbedding(nn.Module):
    """Scalar t in [0, 1] -> [sin, cos] features over geometric frequencies (Transformer style)."""

    def __init__(self, dim: int, scale: float, max_period: float = 10_000.0):
        super().__init__()
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)
        self.scale = scale

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        args = self.scale * t.float()[:, None] * self.freqs[None]
        return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class TimeEmbedding(nn.Module):
    def __init__(self, freq_dim: int, out_dim: int, scale: float):
        super().__init__()
        self.sin = SinusoidalEmbedding(freq_dim, scale)
        self.mlp = nn.Sequential(nn.Linear(freq_dim, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.sin(t))


def rotary_tables(length: int, head_dim: int, base: float, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim))
    angles = torch.arange(length, device=device, dtype=torch.float32)[:, None] * inv[None]
    angles = torch.cat([angles, angles], dim=-1)  # [L, head_dim], rotate-half layout
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: [B, H, L, D]. Rotates pairs (i, i + D/2) by position-dependent angles."""
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], attn_mask: torch.Tensor):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class AdaLNBlock(nn.Module):
    """Pre-norm transformer block whose norms are shifted/scaled and whose residual branches are
    gated by the global condition c (time + speaker), zero-initialised so each block starts as
    the identity (DiT's adaLN-zero): deep stacks train stably from the first step."""

    def __init__(self, dim: int, heads: int, ff_mult: float, cond_dim: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * ff_mult)
        self.ff = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Dropout(dropout), nn.Linear(hidden, dim)
        )
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * dim))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)

    def forward(self, x, c, rope, attn_mask):
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(c)[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + scale1) + shift1
        x = x + gate1 * self.attn(h, rope, attn_mask)
        h = self.norm2(x) * (1 + scale2) + shift2
        return x + gate2 * self.ff(h)


class FinalLayer(nn.Module):
    def __init__(self, dim: int, cond_dim: int, out_dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 2 * dim))
        self.proj = nn.Linear(dim, out_dim)
        for layer in (self.modulation[1], self.proj):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x, c):
        shift, scale = self.modulation(c)[:, None].chunk(2, dim=-1)
        return self.proj(self.norm(x) * (1 + scale) + shift)


class ConvPositionEmbedding(nn.Module):
    """Voicebox's grouped convolution over time, added residually: relative position and local
    context that rotary attention alone learns slowly in small models."""

    def __init__(self, dim: int, kernel: int, groups: int):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=groups)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = (x * mask[..., None]).transpose(1, 2)
        return x + F.gelu(self.conv(h)).transpose(1, 2) * mask[..., None]


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, kernel: int, mult: float = 2.0):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pw = nn.Sequential(nn.Linear(dim, int(dim * mult)), nn.GELU(), nn.Linear(int(dim * mult), dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.dwconv((x * mask[..., None]).transpose(1, 2)).transpose(1, 2)
        return x + self.pw(self.norm(h)) * mask[..., None]


class TokenEncoder(nn.Module):
    """Frame-rate token ids [B, L] -> features [B, L, token_dim]. Ids are already repeated to the
    mel rate (see layout.frame_token_ids); the convolutions smooth the steps between tokens.
    With `n_phones`, frame-rate phone ids add a phone embedding first (FlowConfig.phone_vocab)."""

    def __init__(self, vocab_size: int, dim: int, layers: int, kernel: int, n_phones: int = 0):
        super().__init__()
        # One extra row, the pad token, doubles as "no token": padding, CFG null, untokenised prompt.
        self.embed = nn.Embedding(vocab_size + 1, dim, padding_idx=vocab_size)
        # Zero-initialised with a zero "unknown" row: added to a trained decoder it changes nothing, and
        # without phones the decoder is exactly the token-only one.
        self.phones = nn.Embedding(n_phones + 1, dim, padding_idx=n_phones) if n_phones else None
        if self.phones is not None:
            nn.init.zeros_(self.phones.weight)
        self.blocks = nn.ModuleList(ConvNeXtBlock(dim, kernel) for _ in range(layers))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, phone_ids: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed(ids)
        if self.phones is not None and phone_ids is not None:
            x = x + self.phones(phone_ids)
        for block in self.blocks:
            x = block(x, mask)
        return x * mask[..., None]
