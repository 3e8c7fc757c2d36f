"""How far bfloat16 products move the LM's next-token distribution, on the product's own requests.

Every decoding step of real syntheses (dev test-set entries, the shipped bundle, best of 8) runs through the
fp32 KV-cached backbone, which decides the tokens, and through a bf16-products twin fed exactly the same inputs.
Per step and row it records KL(fp32 || bf16) of the temperature-1 next-token distribution, whether the top
token agrees, the total-variation distance between the two sampling distributions after the top-k / top-p cut,
and (a text-pointer LM) the difference of the advance probability.

    .venv/bin/python reports/ablation/lm_bf16_products/measure_kl.py [--limit 24] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections import defaultdict
from pathlib import Path

import torch

from deepasmr.eval.synthesize import TASK_STYLES, spread
from deepasmr.eval.testset import load_testset, task_name
from deepasmr.lm.kv_cache import CachedBackbone
from deepasmr.lm.sampling import DecodeConfig, nucleus_logits
from deepasmr.pipeline import DeepASMR
from deepasmr.pipeline.config import speak_config

STATS: dict[str, list[float]] = defaultdict(list)


class Twin(CachedBackbone):
    """The fp32 path (what decides the tokens) with a bf16-products shadow on the same inputs."""

    model = None  # the SpeechLM, set before synthesis

    def __init__(self, backbone, batch, capacity, matmul_dtype=None):
        super().__init__(backbone, batch, capacity)
        self.shadow = CachedBackbone(backbone, batch, capacity, torch.bfloat16)

    def select(self, rows):
        super().select(rows)
        self.shadow.select(rows)

    def __call__(self, embeds, positions, key_mask):
        full = super().__call__(embeds, positions, key_mask)
        rounded = self.shadow(embeds, positions, key_mask)
        if embeds.shape[1] == 1:  # a decoding step (the prefix pass is scored by its last position too)
            _compare(self.model, full[:, -1], rounded[:, -1])
        return full


def _compare(model, full, rounded):
    cut = DecodeConfig()
    a, b = model.speech_head(full).float(), model.speech_head(rounded).float()
    pa, pb = a.log_softmax(-1), b.log_softmax(-1)
    STATS["kl"] += (pa.exp() * (pa - pb)).sum(-1).tolist()
    STATS["top1_agree"] += (a.argmax(-1) == b.argmax(-1)).float().tolist()
    na = nucleus_logits(a, cut.top_k, cut.top_p).softmax(-1)
    nb = nucleus_logits(b, cut.top_k, cut.top_p).softmax(-1)
    STATS["nucleus_tv"] += (0.5 * (na - nb).abs().sum(-1)).tolist()
    if model.pointer is not None:
        move = [torch.sigmoid(model.pointer.advance_logit(h).float()) for h in (full, rounded)]
        STATS["advance_abs_diff"] += (move[0] - move[1]).abs().flatten().tolist()


def _summary(values: list[float]) -> dict:
    t = torch.tensor(values)
    return {"mean": float(t.mean()), "p50": float(t.quantile(0.5)), "p99": float(t.quantile(0.99)),
            "max": float(t.max()), "n": len(values)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--testsets", default="corpus/v2/testsets_dev")
    ap.add_argument("--audio-root", default="corpus/v2")
    ap.add_argument("--tasks", nargs="+", default=["EN_N2A", "ZH_N2A", "EN_N2N", "ZH_N2N"])
    ap.add_argument("--limit", type=int, default=24)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = DeepASMR.load(None, speak_config("fp32"))
    Twin.model = model.bundle.lm
    # The package's `generate` is the function, so the module comes by name.
    importlib.import_module("deepasmr.lm.generate").CachedBackbone = Twin
    out = {}
    for task in args.tasks:
        STATS.clear()
        path = Path(args.testsets) / f"{task}_testset.json"
        prompt_style, style = TASK_STYLES[task_name(path)]
        for entry in spread(load_testset(path), args.limit):
            model.speak_detailed(entry["transcription"], Path(args.audio_root) / entry["prompt_audio"], style,
                                 prompt_text=entry["prompt_transcription"], prompt_style=prompt_style, seed=0)
        out[task] = {name: _summary(values) for name, values in STATS.items()}
        print(task, {k: round(v["mean"], 5) for k, v in out[task].items()}, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
