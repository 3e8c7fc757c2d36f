"""Two systems on the same test entries, paired: per entry SIM(output, ground truth) of each, and the mean of
B - A with a bootstrap 95 % interval. With a handful of speakers the two means alone cannot say whether an
ablation's gap is real; pairing removes the entry-to-entry spread that both systems share.

    python -m deepasmr.eval.paired --testset T.json --audio-root corpus/v2 --a runs/x/EN_N2A --b runs/y/EN_N2A

Only entries both systems produced and the embedder can read are compared (the others are listed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# Bootstrap resamples of the entries, and the interval they give.
RESAMPLES = 10_000
INTERVAL = (2.5, 97.5)


def paired_sim(testset: str, audio_root: str, a: str, b: str, seed: int = 0) -> dict:
    from deepasmr.errors import AudioError
    from deepasmr.eval.testset import load_testset
    from deepasmr.speaker.embedding import cosine, embed_file

    rows, skipped = [], {}
    for entry in load_testset(testset):
        key = str(entry["key"])
        try:
            truth = embed_file(Path(audio_root) / entry["ground_truth"])
            sims = [cosine(embed_file(Path(folder) / f"{key}.wav"), truth) for folder in (a, b)]
        except (AudioError, OSError) as err:
            skipped[key] = str(err)
            continue
        rows.append((key, *sims))
    if not rows:
        raise ValueError(f"no entry of {testset} could be compared between {a} and {b}")
    diff = np.array([sb - sa for _, sa, sb in rows])
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (RESAMPLES, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, INTERVAL)
    return {"testset": testset, "a": a, "b": b, "n": len(rows),
            "sim_a": float(np.mean([r[1] for r in rows])), "sim_b": float(np.mean([r[2] for r in rows])),
            "mean_b_minus_a": float(diff.mean()), "ci95": [float(low), float(high)],
            "b_wins": float(np.mean(diff > 0)), "skipped": skipped,
            "per_entry": {k: {"a": sa, "b": sb} for k, sa, sb in rows}}


def main(argv: list[str] | None = None) -> int:
    from deepasmr.eval.report import emit_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--testset", required=True)
    ap.add_argument("--audio-root", required=True)
    ap.add_argument("--a", required=True, help="folder of <key>.wav (system A)")
    ap.add_argument("--b", required=True, help="folder of <key>.wav (system B)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    try:
        report = paired_sim(args.testset, args.audio_root, args.a, args.b)
    except ValueError as err:
        ap.exit(2, f"error: {err}\n")
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
