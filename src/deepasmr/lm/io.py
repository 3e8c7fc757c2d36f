"""Save / load a SpeechLM as `<name>.json` (LMConfig, incl. phone vocabulary and backbone shape) plus
`<name>.safetensors` (weights), the per-stage files of a model bundle. Loading needs no Qwen folder: the
saved backbone dict rebuilds the shape (a BPE model still needs its tokenizer folder for text ids)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from deepasmr.atomic import atomic_write
from deepasmr.errors import ModelFilesError
from deepasmr.lm.config import LMConfig
from deepasmr.lm.model import SpeechLM


def save_lm(model: SpeechLM, out_dir: str | Path, name: str = "lm", dtype: torch.dtype | None = None) -> Path:
    """Write config + weights (optionally cast, e.g. float16 to halve a bundle); returns the weights path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    weights = out / f"{name}.safetensors"
    # Weights first, config last, each by temp file + rename: a reader never sees half a bundle part.
    atomic_write(weights, lambda tmp: save_file(state, str(tmp)))
    atomic_write(out / f"{name}.json", lambda tmp: Path(tmp).write_text(json.dumps(model.cfg.to_dict(), indent=1)))
    return weights


def load_lm(model_dir: str | Path, name: str = "lm", device: str | torch.device = "cpu") -> SpeechLM:
    folder = Path(model_dir)
    cfg_path, weights = folder / f"{name}.json", folder / f"{name}.safetensors"
    for path in (cfg_path, weights):
        if not path.is_file():
            raise ModelFilesError(f"LM file missing: {path}")
    cfg = LMConfig.from_dict(json.loads(cfg_path.read_text()))
    if cfg.backbone is None:
        raise ModelFilesError(f"{cfg_path} has no backbone shape; was it written by save_lm?")
    model = SpeechLM.from_config(cfg)
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(weights)).items()}
    model.load_state_dict(state)
    return model.to(device).eval()
