"""How many normal-style outputs have their median F0 on a multiple of the vocoder's frame rate (22050 / 256 =
86.13 Hz, within 2 %)? Reads eval-model eval.json reports (session 25).

    python count_frame_rate_pitch.py runs/all12_seeds/seed{0,1,2}/eval.json
"""
import json
import sys
from pathlib import Path

FRAME_RATE = 22050 / 256


def on_frame_rate(f0: float | None) -> bool:
    k = round(f0 / FRAME_RATE) if f0 else 0
    return k >= 1 and abs(f0 / (k * FRAME_RATE) - 1) < 0.02


for system in ("generated", "ground_truth"):
    rows = [u[system + "_metrics"] for path in sys.argv[1:]
            for r in json.loads(Path(path).read_text()) if r["task"].endswith("N")
            for u in r["utterances"]]
    print(f"{system}: {sum(on_frame_rate(m['f0_median_hz']) for m in rows)} of {len(rows)} normal outputs on a "
          f"frame-rate multiple; {sum(m['r_uv'] > 0.5 for m in rows)} mostly unvoiced (R_UV > 50 %)")
