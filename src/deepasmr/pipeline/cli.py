"""`deepasmr speak` (one text, or `--batch` a file of lines) and `deepasmr convert` (speech-to-speech).

argparse only at module level: `deepasmr --help` stays fast.
"""

from __future__ import annotations

import argparse

from deepasmr.precision import PRECISIONS

STYLE_CHOICES = ("asmr", "normal")
WORD_CHOICES = ("auto", "asr", "ctc")
DEFAULT_OUT = "out/speak.wav"
DEFAULT_CONVERT_OUT = "out/convert.wav"


def _check_output(path: str):
    from pathlib import Path

    from deepasmr.errors import DeepASMRError

    out = Path(path)
    if out.suffix.lower() not in (".wav", ".flac", ".ogg"):
        raise DeepASMRError(f"{out}: the output must end in .wav, .flac or .ogg")
    return out


def _set_threads(n: int) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


def _write(out, result, plot: bool) -> dict:
    """Save the audio (and the PNG), return the JSON summary."""
    from deepasmr.audio import save_audio

    out.parent.mkdir(parents=True, exist_ok=True)
    save_audio(out, result.wav, result.sample_rate)
    summary = {"output": str(out), **result.to_dict()}
    if plot:
        from deepasmr.eval.analyze import analyze_wave, plot_analysis

        analysis, track = analyze_wave(result.wav, result.sample_rate, str(out))
        png = plot_analysis(result.wav, result.sample_rate, track, analysis, out.with_suffix(".png"))
        summary["plot"] = str(png)
        summary["r_uv"] = analysis.get("r_uv")
    return summary


def _print(summary: dict) -> None:
    import json

    print(json.dumps(summary, indent=1, ensure_ascii=False))


def _quiet_lightning() -> None:
    """Lightning's banner lines (accelerators, tips, DDP set-up) would mix with the JSON summary on stdout."""
    import logging

    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _batch(args: argparse.Namespace) -> int:
    from deepasmr.errors import DeepASMRError
    from deepasmr.pipeline.batch import BatchJob, run_batch

    if args.text is not None:
        raise DeepASMRError("give either a TEXT or --batch LINES, not both")
    if not args.out_dir:
        raise DeepASMRError("--batch needs --out-dir DIR (one audio file per line goes there)")
    if args.output != DEFAULT_OUT or args.plot:
        raise DeepASMRError("-o/--plot are for one text; a batch writes into --out-dir")
    _quiet_lightning()
    job = BatchJob(voice=args.voice, style=args.style, lang=args.lang, prompt_text=args.prompt_text,
                   prompt_style=args.prompt_style, seed=args.seed, steps=args.steps, iterations=args.iterations,
                   model=args.model, precision=args.precision, candidates=args.candidates,
                   phone_guidance=args.phone_guidance)
    summary = run_batch(args.batch, args.out_dir, job, devices=args.devices, progress=not args.no_progress,
                        threads=args.threads)
    if summary is None:  # a rank other than 0: rank 0 reports
        return 0
    _print(summary)
    return 1 if summary["errors"] or summary["missing"] else 0


def _speak(args: argparse.Namespace) -> int:
    from deepasmr.audio import load_audio
    from deepasmr.errors import DeepASMRError
    from deepasmr.pipeline.config import DEFAULT_SPEAK
    from deepasmr.pipeline.engine import DeepASMR
    from deepasmr.pipeline.text import check_text

    if args.batch:
        return _batch(args)
    if args.text is None:
        raise DeepASMRError("give a TEXT to speak, or --batch LINES --out-dir DIR")
    if args.out_dir or args.devices != 1:
        raise DeepASMRError("--out-dir/--devices are for --batch")
    out = _check_output(args.output)
    _set_threads(args.threads)
    # Fail fast on the user's inputs, before loading any model.
    check_text(args.text, args.lang, DEFAULT_SPEAK)
    load_audio(args.voice)
    model = DeepASMR.load(args.model, _speak_config(args))
    result = model.speak_detailed(args.text, args.voice, args.style, prompt_text=args.prompt_text,
                                  prompt_style=args.prompt_style, lang=args.lang, seed=args.seed,
                                  steps=args.steps, iterations=args.iterations)
    _print(_write(out, result, args.plot))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from deepasmr.audio import load_audio
    from deepasmr.errors import TextError
    from deepasmr.frontend import LANGUAGES
    from deepasmr.pipeline.convert import convert
    from deepasmr.pipeline.engine import DeepASMR

    out = _check_output(args.output)
    _set_threads(args.threads)
    if args.lang is not None and args.lang not in LANGUAGES:
        raise TextError(f"unsupported language {args.lang!r}: expected one of {', '.join(LANGUAGES)}")
    load_audio(args.input)
    if args.voice:
        load_audio(args.voice)
    model = DeepASMR.load(args.model, _speak_config(args))
    result = convert(model, args.input, args.style, voice=args.voice, lang=args.lang, words=args.words,
                     prompt_style=args.prompt_style, seed=args.seed, steps=args.steps, iterations=args.iterations)
    _print(_write(out, result, args.plot))
    return 0


def _speak_config(args: argparse.Namespace):
    """The pipeline's settings from the options speak and convert share."""
    from deepasmr.pipeline.config import speak_config

    return speak_config(args.precision, candidates=args.candidates, phone_cfg_strength=args.phone_guidance)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--style", choices=STYLE_CHOICES, default="asmr", help="output style (default asmr)")
    p.add_argument("--seed", type=int, help="random seed (same seed, same output)")
    p.add_argument("--steps", type=int, help="flow-matching ODE steps (default: the model's)")
    p.add_argument("--iterations", type=int, default=1, help="iterative refinement passes (paper §7; default 1)")
    p.add_argument("--model", help="model bundle folder (default: $DEEPASMR_MODEL or the embedded models/tiny)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="LM and flow decoder precision: auto = bf16 where the CPU/GPU has it natively, else fp32")
    p.add_argument("--candidates", type=int, help="LM token samples per sentence; the one whose phones read "
                   "closest to the text is spoken (default 8; 1 = plain sampling, about twice as fast in the LM)")
    p.add_argument("--phone-guidance", type=float, metavar="W", help="how hard the flow decoder is pulled towards "
                   "the phones of the text (default: the model's, 2 for models/tiny; 0 = off: a third less decoder "
                   "time)")


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("speak", help="speak a text (or a file of lines) in the voice of a clip, ASMR or normal")
    p.add_argument("text", nargs="?", help="what to say (English or Mandarin; long text is split into sentences)")
    p.add_argument("--voice", required=True, help="a clip of the target voice (wav/flac/ogg/mp3)")
    p.add_argument("-o", "--output", default=DEFAULT_OUT, help=f"output audio file (default {DEFAULT_OUT})")
    p.add_argument("--prompt-text", help="the clip's transcript (intra-style tasks use it as the LM task prompt; "
                                         "default: transcribed by the ASR)")
    p.add_argument("--prompt-style", choices=STYLE_CHOICES, help="the clip's style (default: detected by R_UV)")
    p.add_argument("--lang", help="text language, en or zh (default: detected from the script)")
    p.add_argument("--plot", action="store_true", help="also write a spectrogram + F0 PNG beside the output")
    _common(p)
    g = p.add_argument_group("batch synthesis")
    g.add_argument("--batch", metavar="LINES", help="a UTF-8 file, one text per line: each becomes one file in "
                                                    "--out-dir (resumable; a manifest.jsonl lists the outputs)")
    g.add_argument("--out-dir", help="output folder of --batch")
    g.add_argument("--devices", type=int, default=1, help="CPU processes for --batch (DDP over gloo; default 1)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar for --batch")
    p.set_defaults(func=_speak)

    c = subparsers.add_parser("convert", help="re-speak the words of a clip in another style, in its own voice "
                                              "(or another clip's)")
    c.add_argument("input", help="the speech to convert (wav/flac/ogg/mp3)")
    c.add_argument("--voice", help="speak in this clip's voice instead of the input's")
    c.add_argument("-o", "--output", default=DEFAULT_CONVERT_OUT,
                   help=f"output audio file (default {DEFAULT_CONVERT_OUT})")
    c.add_argument("--lang", help="the input's language, en or zh (default en)")
    c.add_argument("--words", choices=WORD_CHOICES, default="auto",
                   help="where the words come from: the ASR, the tokenizer's CTC phone head, or auto "
                        "(ASR, then CTC; default)")
    c.add_argument("--prompt-style", choices=STYLE_CHOICES,
                   help="the style of the voice clip (the input, or --voice; default: detected by R_UV)")
    c.add_argument("--plot", action="store_true", help="also write a spectrogram + F0 PNG beside the output")
    _common(c)
    c.set_defaults(func=_convert)
