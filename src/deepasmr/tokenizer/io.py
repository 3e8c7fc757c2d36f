"""Tokenizer weights as safetensors (fp16 when that keeps the tokens) + a JSON config; loadable offline."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import torch

from deepasmr.atomic import atomic_write
from deepasmr.audio import MEL_PRESETS
from deepasmr.errors import ModelFilesError
from deepasmr.tokenizer.config import TokenizerModelConfig
from deepasmr.tokenizer.model import SpeechTokenizer
from deepasmr.tokenizer.vocab import PhoneVocab
from deepasmr.train.config import from_dict

FORMAT = "deepasmr-tokenizer"
NAME = "tokenizer"
# fp16 weights are used only if at least this share of tokens comes out the same as with fp32.
FP16_MIN_AGREEMENT = 0.99


def fp16_agreement(model: SpeechTokenizer, mels: list[torch.Tensor]) -> float:
    """Share of tokens unchanged when the weights are rounded to fp16 (inputs stay fp32)."""
    if not mels:
        return 1.0
    rounded = copy.deepcopy(model).eval()
    with torch.no_grad():
        for p in list(rounded.parameters()) + list(rounded.buffers()):
            if p.is_floating_point():
                p.copy_(p.half().float())
    model = model.eval()
    same = total = 0
    for mel in mels:
        a, b = model.encode(mel.float())[0], rounded.encode(mel.float())[0]
        same += int((a == b).sum())
        total += a.numel()
    return same / max(total, 1)


def save_tokenizer(model: SpeechTokenizer, vocab: PhoneVocab, out_dir: str | Path, check_mels=(),
                   extra: dict | None = None, name: str = NAME) -> Path:
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    agreement = fp16_agreement(model, list(check_mels))
    use_fp16 = agreement >= FP16_MIN_AGREEMENT
    tensors = {k: (v.half() if use_fp16 and v.is_floating_point() else v).detach().cpu().contiguous()
               for k, v in model.state_dict().items()}
    mel_cfg = MEL_PRESETS[model.cfg.mel_preset]
    meta = {
        "format": FORMAT, "version": 1, "model": dataclasses.asdict(model.cfg), "mel": mel_cfg.to_dict(),
        "vocab": vocab.symbols, "codebook_size": model.fsq.codebook_size,
        "token_rate_hz": mel_cfg.frame_rate / model.downsample,
        "dtype": "float16" if use_fp16 else "float32", "fp16_token_agreement": round(agreement, 5),
        **(extra or {}),
    }
    atomic_write(out / f"{name}.safetensors", lambda tmp: save_file(tensors, tmp, metadata={"format": FORMAT}))
    atomic_write(out / f"{name}.json", lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1,
                                                                                     ensure_ascii=False)))
    return out


def load_tokenizer(path: str | Path, name: str = NAME) -> tuple[SpeechTokenizer, PhoneVocab, dict]:
    """Folder holding tokenizer.{json,safetensors} (or the .json path) -> (model in eval, vocab, metadata)."""
    from safetensors.torch import load_file

    path = Path(path)
    json_path = path if path.suffix == ".json" else path / f"{name}.json"
    weights = json_path.with_suffix(".safetensors")
    if not json_path.is_file() or not weights.is_file():
        raise ModelFilesError(f"{path}: expected {json_path.name} and {weights.name} (a trained tokenizer)")
    meta = json.loads(json_path.read_text())
    if meta.get("format") != FORMAT:
        raise ModelFilesError(f"{json_path}: not a deepasmr tokenizer config")
    cfg = from_dict(TokenizerModelConfig, meta["model"])
    vocab = PhoneVocab(meta["vocab"][2:])
    model = SpeechTokenizer(cfg, meta["mel"]["n_mels"], len(vocab))
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(weights)).items()}
    model.load_state_dict(state)
    return model.eval(), vocab, meta
