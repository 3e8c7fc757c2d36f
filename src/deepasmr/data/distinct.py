"""Quick check that virtual speakers are distinct to a speaker encoder (resemblyzer, GE2E).

Per language and style: for each speaker, embed its first N utterances; the first is the query, scored
against the mean cosine to the speaker's own other utterances and to every other speaker's utterances.
A speaker "wins" when its own score beats every other speaker's. The full SIM metric lives in
deepasmr.eval; this is the corpus builder's sanity check.
Usage: python -m deepasmr.data.distinct MANIFEST [--per-speaker 3] [--root DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def embed_groups(rows: list[dict], root: Path, per_speaker: int) -> dict[tuple, np.ndarray]:
    import soundfile as sf
    import torch
    from resemblyzer import VoiceEncoder, preprocess_wav

    torch.set_num_threads(1)  # several threads were slower than one on a shared 2-core machine
    enc = VoiceEncoder("cpu", verbose=False)
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["language"], r["style"], r["speaker"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        picked = sorted(rs, key=lambda r: r["id"])[:per_speaker]
        embs = []
        for r in picked:
            wav, sr = sf.read(str(root / r["path"]), dtype="float32")
            embs.append(enc.embed_utterance(preprocess_wav(wav, source_sr=sr)))
        out[key] = np.stack(embs)
    return out


def distinctness(emb: dict[tuple, np.ndarray]) -> dict[str, dict]:
    report = {}
    for lang, style in sorted({(k[0], k[1]) for k in emb}):
        keys = [k for k in emb if k[:2] == (lang, style) and len(emb[k]) >= 2]
        wins, own_all, other_all, margins = 0, [], [], []
        for k in keys:
            query = emb[k][0]
            own = float(np.mean(emb[k][1:] @ query))
            others = [float(np.mean(emb[o] @ query)) for o in keys if o != k]
            wins += own > max(others)
            own_all.append(own)
            other_all.append(float(np.mean(others)))
            margins.append(own - max(others))
        report[f"{lang}/{style}"] = {
            "speakers": len(keys), "own_beats_all_others": wins, "share": round(wins / max(len(keys), 1), 3),
            "mean_same": round(float(np.mean(own_all)), 3), "mean_other": round(float(np.mean(other_all)), 3),
            "median_margin_to_nearest": round(float(np.median(margins)), 3),
        }
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--per-speaker", type=int, default=3)
    parser.add_argument("--root", type=Path, help="audio root (default: the manifest's folder)")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    emb = embed_groups(rows, args.root or args.manifest.parent, args.per_speaker)
    print(json.dumps(distinctness(emb), indent=1))


if __name__ == "__main__":
    main()
