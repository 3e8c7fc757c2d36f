"""Calibrate the F0 predictor's voicing threshold to PYIN, the tracker the R_UV analysis uses.

Why: the predictor learns voicing from WORLD's labels (fast enough for a whole corpus), and WORLD calls fewer
frames voiced than PYIN does (dev: normal speech 62-88 % voiced by WORLD where PYIN hears 79-98 %). Left at 0,
the threshold makes normal output more unvoiced than the speech it imitates. Here the threshold is the logit
quantile at which the predicted voiced share, over training utterances that have PYIN labels, equals PYIN's.

    python -m deepasmr.pitch.calibrate --model runs/pitch/tiny/export --shards runs/shards/v3 \\
        --pyin-labels runs/vocoder/voicing_f0_v2.safetensors
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch

from deepasmr.data.shards import ShardReader
from deepasmr.errors import DataError
from deepasmr.flow.data import fit_frames
from deepasmr.pitch.model import load_pitch, save_pitch
from deepasmr.vocoder.voicing import load_labels, split_labels


def calibrated_threshold(model, reader: ShardReader, unvoiced: dict, split: str = "train") -> tuple[float, dict]:
    """(threshold, figures): the voicing-logit threshold at which the predicted voiced share of the split's
    labelled normal-style frames equals PYIN's, and the shares before and after."""
    logits, voiced, n = [], [], 0
    for r in reader.index:
        if r.get("split") == split and r["style"] == "normal" and r["id"] in unvoiced:
            frame_logits = model.predict(reader[r["id"]]["tokens"].reshape(-1))[0]
            flags = fit_frames(torch.from_numpy(1.0 - unvoiced[r["id"]].astype("float32")), frame_logits.numel())
            logits.append(frame_logits)
            voiced.append(flags > 0.5)
            n += 1
    if not logits:
        raise DataError(f"{reader.dir}: no {split} normal-style utterance has a PYIN label")
    logits, voiced = torch.cat(logits), torch.cat(voiced)
    share = float(voiced.float().mean())
    threshold = float(torch.quantile(logits, 1.0 - share))
    return threshold, {"utterances": n, "pyin_voiced": share, "frames": int(logits.numel()),
                       "predicted_voiced_at_0": float((logits > 0).float().mean()),
                       "predicted_voiced_calibrated": float((logits > threshold).float().mean())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="an F0 predictor folder; its threshold is rewritten")
    ap.add_argument("--shards", required=True)
    ap.add_argument("--pyin-labels", required=True, help="PYIN label file (python -m deepasmr.vocoder.voicing)")
    args = ap.parse_args(argv)
    model, reader = load_pitch(args.model), ShardReader(args.shards)
    unvoiced, _ = split_labels(load_labels(args.pyin_labels))
    threshold, figures = calibrated_threshold(model, reader, unvoiced)
    model.cfg = replace(model.cfg, voiced_threshold=threshold)
    save_pitch(model, args.model)
    print(json.dumps({"voiced_threshold": threshold, **figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
