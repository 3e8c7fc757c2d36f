"""Synthesis time of 5 s of mel with the flow decoder (tiny preset, default steps and CFG), this CPU.

    .venv/bin/python benchmarks/flow.py [--seconds 5] [--prompt-seconds 3] [--threads 1 2] [--repeats 3]

Random weights (speed does not depend on training). The ODE runs over [prompt | target], so the
speaker prompt's length counts; CFG is batched (each step is one forward at batch 2).
Reports the best of --repeats runs (the machine is shared; the minimum is the least disturbed) as
wall time and as process CPU time: on a busy machine wall time includes waiting for a core, while
CPU time / threads approximates the wall time on idle cores.
"""

from __future__ import annotations

import argparse
import time

import torch

from deepasmr.flow import FlowDecoder, flow_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--seconds", type=float, default=5.0, help="target mel duration")
    ap.add_argument("--prompt-seconds", type=float, default=3.0, help="speaker prompt duration")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=None, help="ODE steps (default: the preset's)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    cfg = flow_config(args.preset)
    torch.manual_seed(0)
    model = FlowDecoder(cfg).eval()
    rate = cfg.mel.frame_rate
    n_tokens = round(args.seconds * rate / cfg.token_ratio)
    tokens = torch.randint(cfg.vocab_size, (n_tokens,))
    prompt = torch.randn(cfg.n_mels, round(args.prompt_seconds * rate)) + cfg.mel_mean
    steps = cfg.steps if args.steps is None else args.steps
    out_seconds = n_tokens * cfg.token_ratio / rate
    print(f"flow decoder '{args.preset}': {model.num_parameters() / 1e6:.2f} M params, {steps} Euler steps, "
          f"CFG {cfg.cfg_strength} (batched), {out_seconds:.2f} s output + {args.prompt_seconds:.1f} s prompt "
          f"({n_tokens * cfg.token_ratio} + {prompt.shape[1]} frames)")
    print(f"{'threads':>7} {'wall s':>8} {'RTF':>6} {'ms/step':>8} {'cpu s':>8}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        model.generate(tokens[:8], prompt[:, :16], steps=1, seed=0)  # warm-up (allocator, kernels)
        best, best_cpu = float("inf"), float("inf")
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            model.generate(tokens, prompt, steps=steps, seed=0)
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        print(f"{threads:>7} {best:>8.3f} {best / out_seconds:>6.3f} {1000 * best / steps:>8.1f} {best_cpu:>8.3f}")


if __name__ == "__main__":
    main()
