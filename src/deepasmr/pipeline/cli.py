"""`deepasmr speak`: text + a voice clip -> a wav in that voice (argparse only at module level)."""

from __future__ import annotations

import argparse

STYLE_CHOICES = ("asmr", "normal")
LANG_CHOICES = ("en", "zh")
DEFAULT_OUT = "out/speak.wav"


def _speak(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import torch

    from deepasmr.audio import load_audio, save_audio
    from deepasmr.errors import DeepASMRError
    from deepasmr.pipeline.config import DEFAULT_SPEAK
    from deepasmr.pipeline.engine import DeepASMR
    from deepasmr.pipeline.text import check_text

    out = Path(args.output)
    if out.suffix.lower() not in (".wav", ".flac", ".ogg"):
        raise DeepASMRError(f"{out}: the output must end in .wav, .flac or .ogg")
    if args.threads:
        torch.set_num_threads(args.threads)
    # Fail fast on the user's inputs, before loading any model.
    check_text(args.text, args.lang, DEFAULT_SPEAK)
    load_audio(args.voice)
    model = DeepASMR.load(args.model)
    result = model.speak_detailed(args.text, args.voice, args.style, prompt_text=args.prompt_text,
                                  prompt_style=args.prompt_style, lang=args.lang, seed=args.seed,
                                  steps=args.steps, iterations=args.iterations)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_audio(out, result.wav, result.sample_rate)
    summary = {"output": str(out), **result.to_dict()}
    if args.plot:
        from deepasmr.eval.analyze import analyze_wave, plot_analysis

        analysis, track = analyze_wave(result.wav, result.sample_rate, str(out))
        png = plot_analysis(result.wav, result.sample_rate, track, analysis, out.with_suffix(".png"))
        summary["plot"] = str(png)
        summary["r_uv"] = analysis.get("r_uv")
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("speak", help="speak a text in the voice of a clip, ASMR (whisper) or normal")
    p.add_argument("text", help="what to say (English or Mandarin; long text is split into sentences)")
    p.add_argument("--voice", required=True, help="a clip of the target voice (wav/flac/ogg/mp3)")
    p.add_argument("--style", choices=STYLE_CHOICES, default="asmr", help="output style (default asmr)")
    p.add_argument("-o", "--output", default=DEFAULT_OUT, help=f"output audio file (default {DEFAULT_OUT})")
    p.add_argument("--prompt-text", help="the clip's transcript (intra-style tasks use it as the LM task prompt)")
    p.add_argument("--prompt-style", choices=STYLE_CHOICES, help="the clip's style (default: detected by R_UV)")
    p.add_argument("--lang", help="text language, en or zh (default: detected from the script)")
    p.add_argument("--seed", type=int, help="random seed (same seed, same output)")
    p.add_argument("--steps", type=int, help="flow-matching ODE steps (default: the model's)")
    p.add_argument("--iterations", type=int, default=1, help="iterative refinement passes (paper §7; default 1)")
    p.add_argument("--plot", action="store_true", help="also write a spectrogram + F0 PNG beside the output")
    p.add_argument("--model", help="model bundle folder (default: $DEEPASMR_MODEL or the embedded models/tiny)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.set_defaults(func=_speak)
