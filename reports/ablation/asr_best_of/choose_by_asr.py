"""Best of K samples chosen by one ASR, scored by another (session 25 probe).

Given K eval-model runs of the same entries that differ only in the decoder's noise and the vocoder's phase
(the LM's tokens are the same), transcribe every output with a *selection* reader (Whisper base, multilingual,
told English), keep per entry the sample it reads with the fewest capped word errors (ties: the lowest k), and
report the kept samples' figures under the *scoring* reader the runs were scored with (Whisper tiny.en, in each
run's eval.json), with the tokenizer's PER and SIM beside them. The two readers are different networks, so
choosing with one and scoring with the other is not choosing by the score itself; how far it still is, is what
`oracle` (choosing by tiny.en itself) and the single-sample rows bound.

    python choose_by_asr.py --runs R0/EN_N2A R1/EN_N2A ... [--reader base] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from deepasmr.eval.asr import get_backend, transcribe_file, utterance_errors


def pooled(rows: list[dict], errors: str, length: str) -> float:
    return sum(r[errors] for r in rows) / max(sum(r[length] for r in rows), 1)


def figures(rows: list[dict]) -> dict:
    return {"wer_capped": pooled(rows, "errors_capped", "n_ref"), "per": pooled(rows, "phone_errors", "n_ref_phones"),
            "sim_to_gt": float(np.mean([r["sim_to_ground_truth"] for r in rows]))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", nargs="+", required=True, help="task folders, sample k = position")
    ap.add_argument("--reader", default="base")
    ap.add_argument("--json")
    args = ap.parse_args()
    reports = []
    for run in args.runs:
        report = json.loads((Path(run).parent / "eval.json").read_text())[0]
        reports.append({u["key"]: u for u in report["utterances"]})
    keys = sorted(set.intersection(*(set(r) for r in reports)), key=str)
    reader = get_backend(args.reader, "en")
    chosen, kept = [], []
    for key in keys:
        text = reports[0][key]["text"]
        errs = [utterance_errors(text, transcribe_file(r[key]["generated"], "en", reader), "en")["errors_capped"]
                for r in reports]
        k = int(np.argmin(errs))
        chosen.append({"key": key, "reader_errors": errs, "kept": k})
        kept.append(reports[k][key]["generated_metrics"])
    oracle = [min((r[key]["generated_metrics"] for r in reports), key=lambda m: m["errors_capped"]) for key in keys]
    out = {"n": len(keys), "k": len(reports), "reader": args.reader,
           "samples": [figures([r[key]["generated_metrics"] for key in keys]) for r in reports],
           "chosen_by_reader": figures(kept), "oracle_by_score": figures(oracle),
           "ground_truth": figures([reports[0][key]["ground_truth_metrics"] | {"sim_to_ground_truth": 1.0}
                                    for key in keys]),
           "kept_counts": np.bincount([c["kept"] for c in chosen], minlength=len(reports)).tolist(),
           "per_entry": chosen}
    print(json.dumps({k: v for k, v in out.items() if k != "per_entry"}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
