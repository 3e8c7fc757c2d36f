"""`deepasmr vocode`: copy-synthesis (wav -> log-mel -> vocoder -> wav). Only argparse at module level."""

from __future__ import annotations

import argparse
import json


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "vocode",
        help="copy-synthesise audio through the vocoder (wav -> log-mel -> wav)",
        description="Resynthesise each input from its log-mel with the vocoder, to hear and measure what the "
        "vocoder keeps. Writes OUT_DIR/<name>.wav per input.",
    )
    p.add_argument("inputs", nargs="+", metavar="IN", help="audio files (wav/flac/ogg/mp3)")
    p.add_argument("-o", "--out-dir", required=True, help="folder for the resynthesised wavs")
    p.add_argument(
        "--kind", default="hifigan", help="vocoder kind: hifigan (default, pretrained), vocos (needs --weights), "
        "griffinlim (debugging only)",
    )
    p.add_argument("--weights", default=None, help="weights: 'universal'/'ljspeech' for hifigan, a folder for vocos")
    p.add_argument("--mel-preset", default="tiny", help="log-mel preset the vocoder works on (default: tiny)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    p.add_argument("--voicing", action="store_true", help="also report R_UV of input and output (slower)")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.set_defaults(func=_run_vocode)


def _run_vocode(args: argparse.Namespace) -> int:
    from deepasmr.vocoder import VocoderConfig, load_vocoder
    from deepasmr.vocoder.copysynth import set_threads, vocode_files

    set_threads(args.threads)
    vocoder = load_vocoder(VocoderConfig(kind=args.kind, mel_preset=args.mel_preset, weights=args.weights))
    records = vocode_files(args.inputs, args.out_dir, vocoder, voicing=args.voicing)
    for rec in records:
        if args.json:
            print(json.dumps(rec))
            continue
        line = f"{rec['output']}: {rec['duration_s']:.2f} s, log-mel L1 {rec['mel_l1']:.3f}"
        if "r_uv_in" in rec:
            line += f", R_UV {rec['r_uv_in']:.3f} -> {rec['r_uv_out']:.3f}"
        print(line)
    return 0
