"""Save / load the decoder as a bundle part: `flow.json` (config) + `flow.safetensors` (weights)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from deepasmr.atomic import atomic_write
from deepasmr.errors import ModelFilesError
from deepasmr.flow.config import FlowConfig
from deepasmr.flow.decoder import FlowDecoder
from deepasmr.int8 import SCALE_SUFFIX, dequantize, quantize

CONFIG_NAME = "flow.json"
WEIGHTS_NAME = "flow.safetensors"


def save_flow(model: FlowDecoder, out_dir: str | Path, dtype: torch.dtype = torch.float16, int8: bool = False
              ) -> Path:
    """Write the config and the weights (fp16 by default: halves the bundle; the decoder runs in fp32
    after loading, and an ODE with 10 steps does not amplify fp16 rounding of weights). `int8`: the large
    matrices as int8 with a scale per row (deepasmr.int8), the rest in `dtype`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if int8:
        state = quantize(state)
    state = {k: v.to(dtype if v.is_floating_point() and not k.endswith(SCALE_SUFFIX) else v.dtype).contiguous()
             for k, v in state.items()}
    # Weights first, config last, each via temp file + rename: a reader never sees a half bundle part.
    atomic_write(out / WEIGHTS_NAME, lambda tmp: save_file(state, tmp))
    atomic_write(out / CONFIG_NAME, lambda tmp: Path(tmp).write_text(json.dumps(model.cfg.to_dict(), indent=1) + "\n"))
    return out


def load_flow(bundle_dir: str | Path, device: str | torch.device = "cpu") -> FlowDecoder:
    root = Path(bundle_dir)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (root / name).is_file():
            raise ModelFilesError(f"{root / name}: missing flow decoder file")
    cfg = FlowConfig.from_dict(json.loads((root / CONFIG_NAME).read_text()))
    model = FlowDecoder(cfg)
    try:
        state = dequantize(load_file(str(root / WEIGHTS_NAME)))
    except ValueError as err:
        raise ModelFilesError(f"{root / WEIGHTS_NAME}: {err}") from None
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.to(device).eval()
