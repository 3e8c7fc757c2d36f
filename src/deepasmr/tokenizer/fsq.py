"""Finite scalar quantisation (Mentzer et al. 2023): bound each of a few channels, round to a small grid.

No codebook to learn or collapse: a code is the tuple of per-channel levels, so `prod(levels)` codes exist
by construction (the paper-scale S3 tokenizer uses 3^8 = 6561). Rounding passes gradients straight through.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class FSQ(nn.Module):
    def __init__(self, levels: tuple[int, ...] | list[int], eps: float = 1e-3) -> None:
        super().__init__()
        if any(level < 2 for level in levels):
            raise ValueError(f"FSQ levels must be >= 2, got {levels}")
        self.eps = eps
        lv = torch.tensor(list(levels), dtype=torch.float32)
        basis = torch.cumprod(torch.tensor([1, *levels[:-1]], dtype=torch.float64), 0)
        self.register_buffer("levels", lv, persistent=False)
        self.register_buffer("basis", basis.long(), persistent=False)
        self.register_buffer("half_width", torch.floor(lv / 2), persistent=False)
        self.codebook_size = math.prod(levels)
        self.dim = len(levels)

    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """Squash to (-L/2, L/2) so rounding lands on exactly L integer values (even L is shifted by 1/2)."""
        half = (self.levels - 1) * (1 + self.eps) / 2
        offset = torch.where(self.levels % 2 == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half)
        return torch.tanh(z + shift) * half - offset

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (..., dim) -> (quantised values in [-1, 1] with straight-through gradients, code indices)."""
        bounded = self.bound(z.float())
        rounded = bounded + (torch.round(bounded) - bounded).detach()
        q = rounded / self.half_width
        return q, self.codes_to_indices(q)

    def codes_to_indices(self, q: torch.Tensor) -> torch.Tensor:
        digits = torch.round(q * self.half_width + self.half_width).long()
        return (digits * self.basis).sum(-1)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:
        digits = (indices.long().unsqueeze(-1) // self.basis) % self.levels.long()
        return (digits.float() - self.half_width) / self.half_width

    def marginal_entropy(self, z: torch.Tensor, mask: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
        """Entropy of each channel's level usage over the (masked) batch, soft-assigned, normalised to [0, 1]
        and averaged over channels. 1 means every level of every channel is used equally often."""
        bounded = self.bound(z.float())[mask]  # (N, dim)
        total = bounded.new_zeros(())
        for ch, level in enumerate(self.levels.long().tolist()):
            low = -(level // 2)
            centres = torch.arange(low, low + level, device=z.device, dtype=bounded.dtype)
            p = torch.softmax(-((bounded[:, ch, None] - centres) ** 2) / temperature, dim=-1).mean(0)
            total = total + -(p * (p + 1e-9).log()).sum() / math.log(level)
        return total / self.dim
