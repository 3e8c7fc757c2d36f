"""Give a bundle its normal-speech path: a decoder told F0, the F0 predictor, and a Vocos that follows F0.

    python scripts/add_normal_decoder.py --bundle models/tiny --flow runs/flow/tiny_v7/export \
        --pitch runs/pitch/tiny/export --vocos runs/vocoder/vocos_tiny_v7/export

Writes <bundle>/flow_normal/ (the decoder; int8 matrices unless --fp16, so both decoders fit the bundle's
budget), <bundle>/pitch.* and <bundle>/vocoder_normal/ (fp16), and points bundle.json's normal-style vocoder
at vocoder_normal. Whispered output keeps the bundle's decoder and vocoder. The new decoder runs with the
bundle decoder's inference settings (steps, guidance, noise), so the two differ only in what they learnt.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from deepasmr.atomic import write_text_atomic
from deepasmr.flow.config import FlowConfig
from deepasmr.flow.io import load_flow, save_flow
from deepasmr.pipeline.bundle import BUNDLE_JSON, NORMAL_FLOW_DIR
from deepasmr.pitch import load_pitch, save_pitch
from deepasmr.vocoder.vocos import load_vocos, save_vocos

NORMAL_VOCODER_DIR = "vocoder_normal"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bundle", required=True, type=Path)
    p.add_argument("--flow", required=True, type=Path, help="the trained decoder told F0 (an export folder)")
    p.add_argument("--pitch", required=True, type=Path, help="the F0 predictor (an export folder)")
    p.add_argument("--vocos", required=True, type=Path, help="the Vocos with a pitch head (an export folder)")
    p.add_argument("--fp16", action="store_true", help="store the decoder in fp16, not int8")
    args = p.parse_args()

    decoder = load_flow(args.flow)
    if not decoder.cfg.pitch_cond:
        raise SystemExit(f"{args.flow}: this decoder is not told F0 (pitch_cond is off)")
    shipped = load_flow(args.bundle).cfg
    decoder.cfg = decoder.cfg.with_(**{k: getattr(shipped, k) for k in FlowConfig.INFERENCE_FIELDS})
    save_flow(decoder, args.bundle / NORMAL_FLOW_DIR, int8=not args.fp16)
    save_pitch(load_pitch(args.pitch), args.bundle, dtype=torch.float16)
    save_vocos(load_vocos(args.vocos), args.bundle / NORMAL_VOCODER_DIR, torch.float16)

    meta_path = args.bundle / BUNDLE_JSON
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    entry = meta.get("vocoder") or {"kind": "hifigan"}
    whisper = entry.get("asmr", entry) if isinstance(entry, dict) else {"kind": entry}
    meta["vocoder"] = {"asmr": whisper, "normal": {"kind": "vocos", "weights": NORMAL_VOCODER_DIR}}
    write_text_atomic(meta_path, json.dumps(meta, indent=1) + "\n")
    size = sum(f.stat().st_size for f in args.bundle.rglob("*") if f.is_file())
    print(f"{args.bundle}: normal speech through {NORMAL_FLOW_DIR}/ and {NORMAL_VOCODER_DIR}/; "
          f"bundle {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
