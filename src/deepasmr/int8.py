"""Weights stored as int8 with one scale per output row: a bundle part in half the bytes of fp16.

Why: the embedded bundle has a 60 MB budget and carries a second decoder (normal speech, told F0) beside the
whispering one; in fp16 the two do not fit. Per-row absmax int8 keeps each row's largest weight exact and
every other within half a step (max |w| / 254). Only storage is quantised: the weights are expanded to fp32
when the part loads, and the model runs as before.
"""

from __future__ import annotations

import torch

SCALE_SUFFIX = ".int8_scale"
MIN_NUMEL = 4096  # smaller tensors (biases, norms, small tables) stay as they are: they weigh nothing


def quantize(state: dict[str, torch.Tensor], min_numel: int = MIN_NUMEL) -> dict[str, torch.Tensor]:
    """Every floating tensor of at least two dimensions and `min_numel` entries -> int8, plus `<name>.int8_scale`
    (fp32, one per row along dim 0: a linear layer's output features, a convolution's output channels)."""
    out = {}
    for name, t in state.items():
        if name.endswith(SCALE_SUFFIX):
            raise ValueError(f"{name}: already a quantised state")
        if not (t.is_floating_point() and t.dim() >= 2 and t.numel() >= min_numel):
            out[name] = t
            continue
        rows = t.detach().float().reshape(t.shape[0], -1)
        scale = rows.abs().amax(dim=1).clamp_min(torch.finfo(torch.float32).tiny) / 127.0
        out[name] = torch.round(rows / scale[:, None]).clamp(-127, 127).to(torch.int8).reshape(t.shape)
        out[name + SCALE_SUFFIX] = scale
    return out


def dequantize(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of `quantize` (fp32 for the quantised tensors; the rest as stored). A state without scales
    comes back unchanged, so loaders call it on every file. ValueError on a scale that does not fit its tensor."""
    out = {}
    for name, t in state.items():
        if name.endswith(SCALE_SUFFIX):
            if name[: -len(SCALE_SUFFIX)] not in state:
                raise ValueError(f"{name}: a scale without its tensor")
            continue
        scale = state.get(name + SCALE_SUFFIX)
        if scale is None:
            out[name] = t
            continue
        if t.dtype != torch.int8 or scale.shape != (t.shape[0],):
            raise ValueError(f"{name}: {t.dtype} {tuple(t.shape)} does not fit an int8 scale of shape "
                             f"{tuple(scale.shape)}")
        out[name] = (t.float().reshape(t.shape[0], -1) * scale.float()[:, None]).reshape(t.shape)
    return out
