"""How spread out in time are the output's log-mels, against the ground truth's? (session 25 probe)

For each entry an eval-model run produced: the log-mel (the shared `tiny` definition) of the output and of its
ground truth over the active frames (within 35 dB of the loudest), and per bin three standard deviations over
time: of the mel itself ("std"), of its frame-to-frame change ("delta": fast jitter) and of the mel smoothed over
5 frames ("slow": contrast between sounds). Each is reported as output / ground truth, averaged over bins and
entries. `--copy-synthesis` instead vocodes each ground truth's own mel with the bundle's whisper vocoder and
compares that, to tell what the vocoder adds from what the decoder does.

    python probe_dispersion.py --run DIR/EN_N2A --audio-root corpus/v2 [--copy-synthesis] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d

from deepasmr.audio import load_audio, save_audio
from deepasmr.audio.features import MEL_PRESETS, log_mel

ACTIVE_DB = 35.0
SLOW_FRAMES = 5
CFG = MEL_PRESETS["tiny"]


def spreads(path: Path) -> np.ndarray:
    """(3, n_mels): std, delta std and slow std of the active frames."""
    wav, _ = load_audio(path, CFG.sample_rate)
    mel = log_mel(wav, CFG).numpy()  # (n_mels, T), log of a magnitude
    energy = mel.max(axis=0)
    active = energy > energy.max() - ACTIVE_DB / 20 * np.log(10)
    delta = np.diff(mel, axis=1)[:, active[1:]]
    slow = uniform_filter1d(mel, SLOW_FRAMES, axis=1)[:, active]
    return np.stack([mel[:, active].std(axis=1), delta.std(axis=1), slow.std(axis=1)])


def copy_synthesis(truth: Path, vocoder, out: Path) -> Path:
    import torch

    wav, _ = load_audio(truth, CFG.sample_rate)
    torch.manual_seed(0)
    save_audio(out, vocoder.generate(log_mel(wav, CFG)[None], style="asmr").squeeze().numpy(), CFG.sample_rate)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="eval-model task folder (holds testset.json and <key>.wav)")
    ap.add_argument("--audio-root", required=True)
    ap.add_argument("--copy-synthesis", action="store_true", help="the ground truth's own mel through the vocoder")
    ap.add_argument("--json")
    args = ap.parse_args()
    run, root = Path(args.run), Path(args.audio_root)
    vocoder = None
    if args.copy_synthesis:
        from deepasmr.pipeline import DeepASMR

        vocoder = DeepASMR.load().bundle.vocoder
    ratios, scratch = [], Path(tempfile.mkdtemp())
    for entry in json.loads((run / "testset.json").read_text()):
        truth = root / entry["ground_truth"]
        out = copy_synthesis(truth, vocoder, scratch / "copy.wav") if vocoder else run / f"{entry['key']}.wav"
        if out.is_file():
            ratios.append((spreads(out) / np.maximum(spreads(truth), 1e-3)).mean(axis=1))
    mean = np.mean(ratios, axis=0)
    report = {"run": str(run), "copy_synthesis": args.copy_synthesis, "n": len(ratios),
              "ratio_std": float(mean[0]), "ratio_delta": float(mean[1]), "ratio_slow": float(mean[2])}
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
