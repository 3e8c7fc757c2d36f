"""Probe: the ground truth's own tokens (tokenizer of the GT recording) in place of the LM's, phones by CTC alignment.
Env ORACLE_TESTSETS=comma list of testset JSONs; ORACLE_ROOT=audio root.
Run against commit 6ef8575 (before phone guidance):
ORACLE_ROOT=corpus/v2 ORACLE_TESTSETS=corpus/v2/testsets_dev/EN_N2A_testset.json python probe_oracle.py eval-model
--audio-root corpus/v2 --out DIR --limit 48 --per-tokenizer models/tiny --threads 2 --testset <that testset>
"""
import json
import os
import sys

import deepasmr.lm.rerank as rr
from deepasmr.audio import load_audio
from deepasmr.lm.generate import LMOutput
from deepasmr.lm.phone_targets import ctc_forced_alignment, proportional_alignment
from deepasmr.pipeline.engine import DeepASMR

root = os.environ["ORACLE_ROOT"]
GT = {}
for f in os.environ["ORACLE_TESTSETS"].split(","):
    with open(f) as fh:
        entries = json.load(fh)
    for e in entries:
        GT[e["transcription"]] = os.path.join(root, e["ground_truth"])
STATE = {"fallbacks": 0, "n": 0}

orig_speak = DeepASMR.speak_detailed
def speak_detailed(self, text, *a, **k):
    STATE["gt"], STATE["self"] = GT.get(text), self
    return orig_speak(self, text, *a, **k)
DeepASMR.speak_detailed = speak_detailed

orig_best_of = rr.best_of
def best_of(lm, tokenizer, requests, references, decode, candidates, seed=None):
    gt, self = STATE.get("gt"), STATE.get("self")
    if gt is None or len(requests) != 1:
        print("oracle: falling back to the LM", file=sys.stderr)
        return orig_best_of(lm, tokenizer, requests, references, decode, candidates, seed)
    b = self.bundle
    wav, _ = load_audio(gt, b.mel_config.sample_rate)
    tokens = self.mel_tokens(wav, crop=False)[1]
    symbols = b.text_tokenizer.decode(requests[0].text)
    vocab = b.phone_vocab
    ids = vocab.encode(list(symbols))
    unk = vocab.index.get("<unk>", -1)
    keep = [p for p, i in enumerate(ids) if i != unk]
    logp = tokenizer.tokens_to_phone_logprobs([tokens])[0]
    path = ctc_forced_alignment(logp.float().numpy(), [ids[p] for p in keep]) if keep else None
    STATE["n"] += 1
    if path is None:
        STATE["fallbacks"] += 1
        path = proportional_alignment(len(tokens), len(keep))
    positions = [keep[int(q)] for q in path]
    out = LMOutput()
    out.tokens.append(tokens.tolist())
    out.hit_max_len.append(False)
    out.text_positions.append(positions)
    print(f"oracle: {len(tokens)} GT tokens, alignment fallbacks {STATE['fallbacks']}/{STATE['n']}", file=sys.stderr)
    return out, [rr.Choice(0, [0.0])]
rr.best_of = best_of

# Imported last, on purpose: the patches above are installed before the CLI is loaded.
from deepasmr.cli import main  # noqa: E402

sys.argv = ["deepasmr"] + sys.argv[1:]
main()
