"""Probe: best of K decoder samples. Each sentence's tokens are decoded K times (noise seeds seed + i + 1000 k,
k = 0..K-1; k = 0 is the shipped sample) and the mel whose re-tokenized phones read closest to the text (the
tokenizer's CTC NLL of the reference phones, lm.rerank.phone_scores) is kept. FLOW_K=1 with FLOW_SHIFT=s decodes
the single sample k = s. FLOW_PREVIEW=1 reads each candidate after its first ODE step only (steps=1: the same first
velocity, x0 + v(x0, 0)) and then decodes the kept seed in full. Choices go to FLOW_LOG (JSON lines). Run against
the commit this folder was added in:
`python probe_flow_best_of.py eval-model ...` with FLOW_K / FLOW_SHIFT / FLOW_LOG in the environment.
"""
import json
import os
import sys

import torch

import deepasmr.lm.rerank as rerank
from deepasmr.flow.decoder import FlowDecoder
from deepasmr.pipeline.bundle import Bundle

K = int(os.environ.get("FLOW_K", "1"))
SHIFT = int(os.environ.get("FLOW_SHIFT", "0"))
PREVIEW = os.environ.get("FLOW_PREVIEW") == "1"
# VOC_SHIFT=s moves the vocoder's seed (torch.manual_seed(seed + i) in the engine) by 1000 s as well.
VOC_SHIFT = int(os.environ.get("VOC_SHIFT", "0"))
if VOC_SHIFT:
    _manual_seed = torch.manual_seed
    torch.manual_seed = lambda s: _manual_seed(s + 1000 * VOC_SHIFT)
LOG = os.environ.get("FLOW_LOG")
state = {"refs": [], "i": 0, "tokenizer": None}

orig_best_of = rerank.best_of


def best_of(lm, tokenizer, requests, references, *a, **k):
    state.update(refs=list(references), i=0, tokenizer=tokenizer)
    return orig_best_of(lm, tokenizer, requests, references, *a, **k)


rerank.best_of = best_of
orig_generate = FlowDecoder.generate


def generate(self, tokens, *a, seed=None, **k):
    i = state["i"]
    state["i"] += 1
    if K == 1 or seed is None:
        return orig_generate(self, tokens, *a, seed=None if seed is None else seed + 1000 * SHIFT, **k)
    steps = {"steps": 1} if PREVIEW else {}
    mels = [orig_generate(self, tokens, *a, seed=seed + 1000 * c, **{**k, **steps}) for c in range(K)]
    tok = state["tokenizer"]
    reread = [tok.encode(m)[0] for m in mels]
    scores = rerank.phone_scores(tok, reread, state["refs"][i])
    best = min(range(K), key=lambda c: (scores[c], c))
    if LOG:
        with open(LOG, "a") as f:
            f.write(json.dumps({"seed": seed, "scores": scores, "kept": best}) + "\n")
    return orig_generate(self, tokens, *a, seed=seed + 1000 * best, **k) if PREVIEW else mels[best]


FlowDecoder.generate = generate
_ = Bundle

from deepasmr.cli import main  # noqa: E402

sys.argv = ["deepasmr"] + sys.argv[1:]
main()
