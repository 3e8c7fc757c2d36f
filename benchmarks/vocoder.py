"""Vocoder speed: real-time factor (synthesis time / audio duration) for 5 s of mel on 1 and 2 threads.

    .venv/bin/python benchmarks/vocoder.py [--seconds 5] [--repeats 3] [--kinds hifigan vocos-paper]

Prints one line per (kind, threads): best-of-N wall time and RTF (< 1 is faster than real time).
The machine's other load counts in: run it when the cores are idle, and report the load average beside it.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from deepasmr.vocoder import VocoderConfig, load_vocoder

# kind name -> the VocoderConfig that builds it (Vocos runs untrained: speed does not depend on weights).
KINDS = {
    "hifigan": VocoderConfig(kind="hifigan"),
    "vocos-tiny": VocoderConfig(kind="vocos", mel_preset="tiny", options={"untrained": True}),
    "vocos-paper": VocoderConfig(kind="vocos", mel_preset="paper", options={"untrained": True}),
    "griffinlim": VocoderConfig(kind="griffinlim"),
}
# A speech-like log-mel level (natural log of magnitude) so no kind gets a degenerate input.
MEL_LEVEL = -4.0


def bench(kind: str, seconds: float, threads: int, repeats: int) -> tuple[float, float]:
    torch.set_num_threads(threads)
    vocoder = load_vocoder(KINDS[kind])
    frames = round(seconds * vocoder.mel_config.frame_rate)
    mel = MEL_LEVEL + 0.5 * torch.randn(vocoder.mel_config.n_mels, frames, generator=torch.Generator().manual_seed(0))
    vocoder.generate(mel[:, : frames // 10])  # warm-up: allocator and kernel selection
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        vocoder.generate(mel)
        best = min(best, time.perf_counter() - start)
    return best, best / (frames / vocoder.mel_config.frame_rate)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--kinds", nargs="+", default=["hifigan", "vocos-tiny", "vocos-paper"], choices=sorted(KINDS))
    args = p.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; torch {torch.__version__}")
    for kind in args.kinds:
        for threads in args.threads:
            wall, rtf = bench(kind, args.seconds, threads, args.repeats)
            print(f"{kind:12s} threads={threads}  {args.seconds:.1f} s of mel: {wall:6.2f} s  RTF {rtf:5.2f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
