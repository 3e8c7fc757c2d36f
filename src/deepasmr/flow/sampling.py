"""ODE sampling: Euler steps on a sway (cosine) time grid with classifier-free guidance."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from deepasmr.flow.pitch import UNKNOWN_F0
from deepasmr.precision import autocast

# velocity(x_t, cond_mel, ids, t, mask, spk, phone_ids=None, f0=None) -> v, all batched along dim 0
VelocityFn = Callable[..., torch.Tensor]


def time_grid(steps: int, sway_coef: float, device=None) -> torch.Tensor:
    """steps + 1 times from 0 (noise) to 1 (data). sway_coef < 0 crowds the steps near t = 0,
    where the flow decides the coarse layout; -1 gives t' = 1 - cos(pi t / 2)."""
    if steps < 1:
        raise ValueError(f"need at least one ODE step, got {steps}")
    t = torch.linspace(0.0, 1.0, steps + 1, device=device)
    return t + sway_coef * (torch.cos(math.pi / 2 * t) - 1 + t)


def guided_velocity(
    velocity: VelocityFn,
    x: torch.Tensor,
    cond_mel: torch.Tensor,
    ids: torch.Tensor,
    null_ids: torch.Tensor,
    t: torch.Tensor,
    mask: torch.Tensor,
    spk: torch.Tensor | None,
    cfg_strength: float,
    batched: bool = True,
    phones: tuple[torch.Tensor, torch.Tensor] | None = None,
    phone_strength: float = 0.0,
    f0: torch.Tensor | None = None,
) -> torch.Tensor:
    """v = v_cond + w (v_cond - v_null) + w_phone (v_cond - v_unphoned). The null condition is what training's CFG
    dropout shows: zero prompt mel, pad tokens, zero speaker embedding, unknown phones. The unphoned condition
    keeps prompt, tokens and speaker and drops only the phones, as training's phone dropout does: its term pulls
    the output towards the phones the decoder is told, at the cost of one more network pass.
    `batched` runs all branches in one forward.
    phones: (frame-rate phone ids, their null) for a decoder told the phones; None otherwise (no phone term).
    f0: [B, L] Hz per frame for a decoder told F0 (deepasmr.flow.pitch); the null branch does not know it."""
    phone_ids, null_phones = phones if phones is not None else (None, None)
    null_spk = None if spk is None else torch.zeros_like(spk)
    null_f0 = None if f0 is None else torch.full_like(f0, UNKNOWN_F0)
    phone_term = bool(phone_strength) and phones is not None
    # (cond_mel, ids, spk, phone_ids, f0) per branch; the conditional branch first
    branches = [(cond_mel, ids, spk, phone_ids, f0)]
    if cfg_strength:
        branches.append((torch.zeros_like(cond_mel), null_ids, null_spk, null_phones, null_f0))
    if phone_term:
        branches.append((cond_mel, ids, spk, null_phones, f0))
    if batched and len(branches) > 1:
        n = len(branches)
        mel_b, ids_b, spk_b, ph_b, f0_b = zip(*branches, strict=True)
        v = velocity(
            torch.cat([x] * n),
            torch.cat(mel_b),
            torch.cat(ids_b),
            torch.cat([t] * n),
            torch.cat([mask] * n),
            None if spk is None else torch.cat(spk_b),
            phone_ids=None if phones is None else torch.cat(ph_b),
            f0=None if f0 is None else torch.cat(f0_b),
        )
        vs = list(v.chunk(n))
    else:
        vs = [velocity(x, m, i, t, mask, s, phone_ids=p, f0=f) for m, i, s, p, f in branches]
    v_cond, others = vs[0], iter(vs[1:])  # the other branches in the order they were added
    out = v_cond
    if cfg_strength:
        out = out + cfg_strength * (v_cond - next(others))
    if phone_term:
        out = out + phone_strength * (v_cond - next(others))
    return out


@torch.no_grad()
def euler_solve(
    velocity: VelocityFn,
    x0: torch.Tensor,
    cond_mel: torch.Tensor,
    ids: torch.Tensor,
    null_ids: torch.Tensor,
    mask: torch.Tensor,
    spk: torch.Tensor | None,
    steps: int,
    cfg_strength: float,
    sway_coef: float,
    batched_cfg: bool = True,
    precision: str = "fp32",
    phones: tuple[torch.Tensor, torch.Tensor] | None = None,
    cfg_until: float = 1.0,
    phone_strength: float = 0.0,
    f0: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integrate dx/dt = v(x, t) from x0 (noise, t = 0) to t = 1 with explicit Euler steps. `precision`
    (deepasmr.precision) applies to the velocity network only: x is carried in x0's dtype. Steps starting at
    t >= cfg_until run unguided (the conditional branch alone), without the phone term too."""
    grid = time_grid(steps, sway_coef, x0.device)
    x = x0
    for i in range(steps):
        t = grid[i].expand(x.shape[0])
        guided = float(grid[i]) < cfg_until
        with autocast(precision, x0.device):
            v = guided_velocity(velocity, x, cond_mel, ids, null_ids, t, mask, spk, cfg_strength if guided else 0.0,
                                batched_cfg, phones, phone_strength if guided else 0.0, f0)
        x = x + (grid[i + 1] - grid[i]) * v.to(x.dtype)
    return x
