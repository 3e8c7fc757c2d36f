"""ODE sampling: Euler steps on a sway (cosine) time grid with classifier-free guidance."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from deepasmr.precision import autocast

# velocity(x_t, cond_mel, ids, t, mask, spk, phone_ids=None) -> v, all batched along dim 0
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
) -> torch.Tensor:
    """v = v_cond + w (v_cond - v_null). The null condition is what training's CFG dropout shows:
    zero prompt mel, pad tokens, zero speaker embedding, unknown phones. `batched` runs both in one forward.
    phones: (frame-rate phone ids, their null) for a decoder told the phones; None otherwise."""
    phone_ids, null_phones = phones if phones is not None else (None, None)
    if cfg_strength == 0:
        return velocity(x, cond_mel, ids, t, mask, spk, phone_ids=phone_ids)
    null_spk = None if spk is None else torch.zeros_like(spk)
    if batched:
        v = velocity(
            torch.cat([x, x]),
            torch.cat([cond_mel, torch.zeros_like(cond_mel)]),
            torch.cat([ids, null_ids]),
            torch.cat([t, t]),
            torch.cat([mask, mask]),
            None if spk is None else torch.cat([spk, null_spk]),
            phone_ids=None if phones is None else torch.cat([phone_ids, null_phones]),
        )
        v_cond, v_null = v.chunk(2)
    else:
        v_cond = velocity(x, cond_mel, ids, t, mask, spk, phone_ids=phone_ids)
        v_null = velocity(x, torch.zeros_like(cond_mel), null_ids, t, mask, null_spk, phone_ids=null_phones)
    return v_cond + cfg_strength * (v_cond - v_null)


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
) -> torch.Tensor:
    """Integrate dx/dt = v(x, t) from x0 (noise, t = 0) to t = 1 with explicit Euler steps. `precision`
    (deepasmr.precision) applies to the velocity network only: x is carried in x0's dtype. Steps starting at
    t >= cfg_until run unguided (the conditional branch alone)."""
    grid = time_grid(steps, sway_coef, x0.device)
    x = x0
    for i in range(steps):
        t = grid[i].expand(x.shape[0])
        strength = cfg_strength if float(grid[i]) < cfg_until else 0.0
        with autocast(precision, x0.device):
            v = guided_velocity(velocity, x, cond_mel, ids, null_ids, t, mask, spk, strength, batched_cfg, phones)
        x = x + (grid[i + 1] - grid[i]) * v.to(x.dtype)
    return x
