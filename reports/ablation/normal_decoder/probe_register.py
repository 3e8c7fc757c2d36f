"""How far off is the F0 register given to A2N output? A whispered voice clip has no pitch of its own, so the
F0 predictor borrows one from the pool. Compared, per A2N test entry, against the register of the speaker's
own normal speech (the ground truth clip):
  cross   the nearest *normal* pool voice to the whispered clip (cross-style speaker embedding; session 27)
  same    the nearest *whispering* pool voice (same-style embedding), in that speaker's normal pool clip
  same3   the mean register of the three nearest whispering pool voices' normal clips
Usage: .venv/bin/python reports/ablation/normal_decoder/probe_register.py corpus/v2/testsets_dev/EN_A2N_testset.json ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from deepasmr.audio import MEL_PRESETS, load_audio
from deepasmr.pipeline import load_bundle
from deepasmr.pitch.model import clip_register
from deepasmr.speaker.embedding import embed

bundle = load_bundle()  # models/tiny: its pools, and its F0 predictor for the register's scale
files = [f for f in sys.argv[1:] if f.endswith(".json")]
mel, cfg = MEL_PRESETS["tiny"], bundle.pitch.cfg
pools = bundle.pools
normal_of = {e.speaker: e for e in pools["normal"].entries}
cache: dict = {}


def register(path) -> float | None:
    if path not in cache:
        cache[path] = clip_register(load_audio(path, mel.sample_rate)[0], mel, cfg)
    return cache[path]


def nearest(pool, query, lang, k):
    idx = np.array([i for i, e in enumerate(pool.entries) if e.language == lang])
    emb = pool.embeddings[idx].astype(np.float64)
    sims = emb @ query / (np.linalg.norm(emb, axis=1) * np.linalg.norm(query))
    return [pool.entries[i] for i in idx[np.argsort(-sims)[:k]]]


out = {}
for f in files:
    entries = json.loads(Path(f).read_text())
    root = Path(f).parent.parent
    lang = "zh" if Path(f).name.startswith("ZH") else "en"
    rows = []
    for e in entries:
        truth = register(root / e["ground_truth"])
        wav, sr = load_audio(root / e["prompt_audio"])
        q = embed(wav, sr).astype(np.float64)
        cross = register(pools["normal"].audio_path(nearest(pools["normal"], q, lang, 1)[0]))
        same_k = [register(pools["normal"].audio_path(normal_of[s.speaker]))
                  for s in nearest(pools["asmr"], q, lang, 3)]
        rows.append({"key": e["key"], "truth": truth, "cross": cross, "same": same_k[0],
                     "same3": float(np.mean(same_k))})
    summary = {}
    for m in ("cross", "same", "same3"):
        err = np.array([abs(r[m] - r["truth"]) for r in rows])
        summary[m] = {"mean_octaves_off": round(float(err.mean()), 3),
                      "share_over_0.26": round(float((err > 0.26).mean()), 3)}
    out[f] = {"n": len(rows), "summary": summary, "rows": rows}
    print(f, len(rows), summary, flush=True)
Path("reports/ablation/normal_decoder/register_errors.json").write_text(json.dumps(out, indent=1))
