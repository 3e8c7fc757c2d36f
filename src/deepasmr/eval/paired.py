"""Two systems on the same test entries, paired: per entry SIM(output, ground truth) of each, and the mean of
B - A with a bootstrap 95 % interval. With a handful of speakers the two means alone cannot say whether an
ablation's gap is real; pairing removes the entry-to-entry spread that both systems share.

    python -m deepasmr.eval.paired --testset T.json --audio-root corpus/v2 --a runs/x/EN_N2A --b runs/y/EN_N2A
    python -m deepasmr.eval.paired --eval-a runs/x/eval.json --eval-b runs/y/eval.json [--task EN_N2A]
    python -m deepasmr.eval.paired --eval-a runs/x/seed*/eval.json --eval-b runs/y/seed*/eval.json

The second form pairs the word (or character) and phone errors and the SIM that `deepasmr eval`/`eval-model`
reports scored: the pooled rate of each (capped errors / reference length over the set, as the reports give it)
and B - A, with the entries resampled. Each side may be a report per seed (eval-model --seed 0 1 2), so that a
comparison is not one draw's. Only entries both systems produced and could be scored are compared (the others
are listed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

# Bootstrap resamples of the entries, and the interval they give.
RESAMPLES = 10_000
INTERVAL = (2.5, 97.5)


def paired_sim(testset: str, audio_root: str, a: str, b: str, seed: int = 0) -> dict:
    from deepasmr.errors import AudioError
    from deepasmr.eval.testset import load_testset
    from deepasmr.speaker.embedding import cosine, embed_file

    rows, skipped, absent = [], {}, 0
    for entry in load_testset(testset):
        key = str(entry["key"])
        if not any((Path(folder) / f"{key}.wav").is_file() for folder in (a, b)):
            absent += 1  # neither system made it (e.g. both ran with --limit): nothing to report per entry
            continue
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
    low, high = _bootstrap(diff, lambda d: d.mean(axis=-1), seed)
    return {"testset": testset, "a": a, "b": b, "n": len(rows),
            "sim_a": float(np.mean([r[1] for r in rows])), "sim_b": float(np.mean([r[2] for r in rows])),
            "mean_b_minus_a": float(diff.mean()), "ci95": [float(low), float(high)],
            "b_wins": float(np.mean(diff > 0)), "skipped": skipped, "n_absent_from_both": absent,
            "per_entry": {k: {"a": sa, "b": sb} for k, sa, sb in rows}}


def _bootstrap(values: np.ndarray, statistic, seed: int) -> list[float]:
    """95 % interval of statistic(rows) over RESAMPLES resamples of the rows of `values` (entries, ...)."""
    picks = np.random.default_rng(seed).integers(0, len(values), (RESAMPLES, len(values)))
    return [float(x) for x in np.percentile(statistic(values[picks]), INTERVAL)]


# Per error measure of a report's utterance metrics: (errors, reference length).
ERROR_FIELDS = {"capped": ("errors_capped", "n_ref"), "phone": ("phone_errors", "n_ref_phones")}


def _scored(report_path: str, task: str | None) -> tuple[dict, dict]:
    reports = json.loads(Path(report_path).read_text(encoding="utf-8"))
    if not isinstance(reports, list) or not all(isinstance(r, dict) and "task" in r for r in reports):
        raise ValueError(f"{report_path} is not an eval.json report (a list of per-task results)")
    tasks = [r["task"] for r in reports]
    if task is None and len(reports) != 1:
        raise ValueError(f"{report_path} holds tasks {tasks}: name one with --task")
    chosen = next((r for r in reports if task in (None, r["task"])), None)
    if chosen is None:
        raise ValueError(f"{report_path} has no task {task} (it holds {tasks})")
    return chosen, {u["key"]: u["generated_metrics"] for u in chosen["utterances"] if u.get("generated_metrics")}


def _sum_over_runs(runs: list[dict], keys: list, field: str) -> np.ndarray:
    return np.array([sum(float(run[k][field]) for run in runs) for k in keys])


def paired_errors(eval_a: str | list[str], eval_b: str | list[str], task: str | None = None, seed: int = 0) -> dict:
    """Per error measure the reports scored ("capped": word or character errors, the report's `unit`, capped at
    the reference length; "phone": the phone reader's): the pooled rate of A and of B over their shared entries,
    B - A (negative: B makes fewer errors), its bootstrap 95 % interval and the shares of entries where B erred
    less and more; "sim": the mean SIM to the ground truth of each, B - A and its interval.

    Each side may be several reports (one per seed): an entry's errors then add up over that side's seeds and
    its SIM is their mean, so the entries are still what the bootstrap resamples."""
    paths_a = [eval_a] if isinstance(eval_a, str) else list(eval_a)
    paths_b = [eval_b] if isinstance(eval_b, str) else list(eval_b)
    report, first = _scored(paths_a[0], task)
    name = report["task"]
    runs_a = [first] + [_scored(p, name)[1] for p in paths_a[1:]]
    runs_b = [_scored(p, name)[1] for p in paths_b]
    in_a, in_b = (set.intersection(*(set(r) for r in runs)) for runs in (runs_a, runs_b))
    keys = sorted(in_a & in_b, key=str)
    if not keys:
        raise ValueError(f"{paths_a} and {paths_b} share no scored entry of {name}")
    out = {"task": name, "unit": report.get("unit"), "a": paths_a, "b": paths_b, "n": len(keys),
           "unpaired": sorted(in_a ^ in_b, key=str)}
    runs = runs_a + runs_b
    for measure, (errors, length) in ERROR_FIELDS.items():
        if not all(errors in run[k] for run in runs for k in keys):
            continue  # e.g. a report scored without a phone reader
        # Per entry: A's errors, A's reference length, B's errors, B's length (each summed over its seeds).
        rows = np.stack([_sum_over_runs(side, keys, field) for side in (runs_a, runs_b) for field in (errors, length)],
                        axis=1)
        if rows[:, 1].sum() == 0:
            continue

        def pooled(r, side):  # errors / reference length over the (resampled) entries, as the reports pool them
            return r[..., 2 * side].sum(-1) / np.maximum(r[..., 2 * side + 1].sum(-1), 1)

        a_rate, b_rate = rows[:, 0] / np.maximum(rows[:, 1], 1), rows[:, 2] / np.maximum(rows[:, 3], 1)
        out[measure] = {"a": float(pooled(rows, 0)), "b": float(pooled(rows, 1)),
                        "b_minus_a": float(pooled(rows, 1) - pooled(rows, 0)),
                        "ci95": _bootstrap(rows, lambda r: pooled(r, 1) - pooled(r, 0), seed),
                        "b_fewer": float(np.mean(b_rate < a_rate)), "b_more": float(np.mean(b_rate > a_rate))}
    if all("sim_to_ground_truth" in run[k] for run in runs for k in keys):
        sim_a, sim_b = (_sum_over_runs(side, keys, "sim_to_ground_truth") / len(side) for side in (runs_a, runs_b))
        diff = sim_b - sim_a
        out["sim"] = {"a": float(sim_a.mean()), "b": float(sim_b.mean()), "b_minus_a": float(diff.mean()),
                      "ci95": _bootstrap(diff, lambda d: d.mean(axis=-1), seed), "b_higher": float(np.mean(diff > 0))}
    return out


def main(argv: list[str] | None = None) -> int:
    from deepasmr.eval.report import emit_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--testset", help="SIM: the test set both folders answer")
    ap.add_argument("--audio-root", help="SIM: the folder the test set's audio paths start at")
    ap.add_argument("--a", help="SIM: folder of <key>.wav (system A)")
    ap.add_argument("--b", help="SIM: folder of <key>.wav (system B)")
    ap.add_argument("--eval-a", nargs="+", help="reports: system A's eval.json (from deepasmr eval / eval-model); "
                    "several: one per seed (e.g. A/seed*/eval.json)")
    ap.add_argument("--eval-b", nargs="+", help="reports: system B's eval.json, one or one per seed")
    ap.add_argument("--task", help="reports: which task of the reports (needed when they hold several)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    sim = (args.testset, args.audio_root, args.a, args.b)
    by_errors = args.eval_a is not None or args.eval_b is not None
    if not (all(sim) and not by_errors or by_errors and args.eval_a and args.eval_b and not any(sim)):
        ap.error("give either --testset --audio-root --a --b (SIM from wavs) or --eval-a --eval-b (errors and SIM "
                 "from reports)")
    try:
        report = paired_sim(*sim) if args.eval_a is None else paired_errors(args.eval_a, args.eval_b, args.task)
    except (ValueError, OSError, KeyError) as err:
        ap.exit(2, f"error: {err}\n")
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
