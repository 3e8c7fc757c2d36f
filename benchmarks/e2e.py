"""End-to-end speed and memory of one N2A (or N2N) request on this machine: per stage and in total.

    .venv/bin/python benchmarks/e2e.py [--model models/tiny] [--threads 1 2] [--repeats 3] [--steps N] [--style normal]
        [--precision auto|fp32|bf16] [--candidates N] [--phone-guidance W]

Speaks a sentence of about 5 s in the bundle's default voice (N2A; N2N with --style normal) and prints, per
thread count, the best of --repeats runs: wall seconds per stage (route, task prompt, speaker prompt, LM, flow,
vocoder), total, the real-time factor (total / output seconds), LM tokens per second, flow steps, and the
process's peak RSS.
The first run also pays model loading and is reported separately.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import torch

from deepasmr.precision import PRECISIONS

TEXT = "Close your eyes and listen, the rain is soft tonight, and every sound is slowly fading away."


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    from deepasmr.pipeline import DeepASMR
    from deepasmr.pipeline.config import speak_config
    from deepasmr.precision import resolve

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--style", choices=["asmr", "normal"], default="asmr", help="output style (default: asmr)")
    ap.add_argument("--precision", choices=PRECISIONS, default="auto", help="LM and flow decoder precision")
    ap.add_argument("--candidates", type=int, default=None,
                    help="LM token samples per sentence (default: the pipeline's); LM tokens/s counts the kept ones")
    ap.add_argument("--phone-guidance", type=float, default=None,
                    help="the flow's phone guidance (default: the model's); 0: two network passes per step, not three")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    model = DeepASMR.load(args.model, speak_config(args.precision, candidates=args.candidates,
                                                      phone_cfg_strength=args.phone_guidance))
    load_s = time.perf_counter() - t0
    voice = json.loads((model.bundle.root / "voices" / "default.json").read_text())
    clip = model.bundle.root / "voices" / voice["audio"]
    steps = args.steps or model.bundle.flow.cfg.steps
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        best = None
        for _ in range(args.repeats):
            r = model.speak_detailed(TEXT, clip, args.style, prompt_text=voice["text"], prompt_style="normal", seed=0,
                                     steps=args.steps)
            if best is None or r.timings["total"] < best.timings["total"]:
                best = r
        seconds = best.wav.size / best.sample_rate
        t = best.timings
        rows.append({"threads": threads, "output_s": round(seconds, 2),
                     **{k: round(v, 3) for k, v in t.items()},
                     "rtf": round(t["total"] / seconds, 3),
                     "lm_tokens_per_s": round(sum(best.n_tokens) / t["lm"], 1),
                     "flow_steps": steps, "peak_rss_mb": round(peak_rss_mb(), 0)})
    if args.json:
        print(json.dumps({"load_s": round(load_s, 2), "rows": rows}, indent=1))
        return
    print(f"model load {load_s:.2f} s; peak RSS after all runs {peak_rss_mb():.0f} MB; "
          f"precision {args.precision} = {resolve(args.precision)}")
    keys = [k for k in rows[0] if k != "threads"]
    print("| threads | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for row in rows:
        print(f"| {row['threads']} | " + " | ".join(str(row[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
