"""Compute precision: bfloat16 where the hardware does it natively, fp32 elsewhere.

Inference: the flow decoder's velocity network (`autocast`) and the LM's matrix products while decoding
(lm.kv_cache, which says why only those). `auto` picks bfloat16 on a CUDA GPU that supports
it and on CPUs with native bf16 arithmetic (AMX tiles or AVX-512 BF16, e.g. Xeon Sapphire Rapids and later),
and fp32 everywhere else: emulated bf16 on an ordinary laptop CPU is slower than fp32. Autocast keeps
reductions (layer norm, softmax) in fp32; callers keep their own state (the ODE's x) in fp32 and cast each
velocity back, so rounding does not accumulate over steps.
Training (`deepasmr.train.runner.resolve_precision`) asks `native_bf16` the same question for bf16-mixed.

torch is imported inside the functions: the CLIs import PRECISIONS for their --help.
"""

from __future__ import annotations

import contextlib

PRECISIONS = ("auto", "fp32", "bf16")


def native_bf16(device="cpu") -> bool:
    """True when `device` (a torch.device or its name) computes bfloat16 matrix products in hardware."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # private but stable since torch 2.1
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def resolve(precision: str, device="cpu"):
    """The torch dtype `precision` means on `device`: torch.float32 or torch.bfloat16."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "bf16" or (precision == "auto" and native_bf16(device)):
        return torch.bfloat16
    return torch.float32


def autocast(precision: str, device="cpu") -> contextlib.AbstractContextManager:
    """A context in which matmuls, convolutions and attention run at `precision` (nothing changes at fp32)."""
    import torch

    device = torch.device(device)
    dtype = resolve(precision, device)
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)
