"""`deepasmr analyze` and `deepasmr eval`. Only argparse here; the work loads inside the commands."""

from __future__ import annotations

import argparse
import os
import sys

from deepasmr.precision import PRECISIONS


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    """What every "make outputs for test sets, then score them" command takes (eval-model, baseline)."""
    p.add_argument("--testset", required=True, action="append", metavar="X.json", help="repeat for several")
    p.add_argument("--audio-root", required=True, metavar="R", help="folder the test set's audio paths start at")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--limit", type=int, default=0, help="entries per test set, spread over its speakers (0 = all)")
    p.add_argument("--no-score", action="store_true", help="only synthesise")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes for PYIN")
    _add_phone_reader_argument(p)


def _add_phone_reader_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--per-tokenizer", metavar="DIR", help="also the phone error rate a speech tokenizer's CTC head "
                   "reads (an ASR-free intelligibility proxy; e.g. models/tiny)")


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="duration, loudness, F0, unvoiced ratio (R_UV) and style verdict of audio files",
        description="Per file: duration, loudness (RMS dBFS), F0 statistics, R_UV over active frames, and a "
        "style verdict (asmr when R_UV >= 0.6).",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--plot", metavar="OUT", help="write a PNG: a .png path for one file, else a folder")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.add_argument("--workers", type=int, default=1, help="processes (PYIN is slow; default 1)")
    p.set_defaults(func=cmd_analyze)

    e = subparsers.add_parser(
        "eval",
        help="R_UV, SIM and WER/CER of generated audio on a test set in the paper's JSON format",
        description="Scores <generated>/<key>.wav for every test-set entry beside the ground truth itself; "
        "writes eval.json, eval.md and eval.png and prints the Markdown.",
    )
    e.add_argument(
        "--testset", required=True, action="append", metavar="X.json", help="test set JSON (repeat for several tasks)"
    )
    e.add_argument("--audio-root", required=True, metavar="R", help="folder the test set's audio paths start at")
    e.add_argument(
        "--generated",
        required=True,
        action="append",
        metavar="DIR",
        help="folder of <key>.wav outputs (one, or one per --testset)",
    )
    e.add_argument("--out", default="eval_out", metavar="DIR", help="report folder (default eval_out)")
    e.add_argument("--language", choices=("en", "zh"), default="en", help="en: WER; zh: CER")
    e.add_argument(
        "--asr",
        default=None,
        metavar="MODEL",
        help="'tiny.en', 'base', a local faster-whisper folder, or module:factory "
        "(default tiny.en for en, base for zh)",
    )
    e.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes for PYIN")
    _add_phone_reader_argument(e)
    e.set_defaults(func=cmd_eval)

    m = subparsers.add_parser(
        "eval-model",
        help="synthesise a model's outputs for test sets in the paper's JSON format, then score them",
        description="For each test set: <out>/<task>/<key>.wav from the model (resumable), then the same "
        "scores as `deepasmr eval`, beside the ground truth's own; writes <out>/eval.{json,md,png}. Several "
        "--seed values: that per seed in <out>/seed<S>/, and the spread over seeds in <out>/seeds.{json,md,png}.",
    )
    _add_run_arguments(m)
    m.add_argument("--model", default=None, help="model bundle (default: the embedded models/tiny)")
    m.add_argument("--seed", type=int, nargs="+", default=[0], metavar="S",
                   help="seed(s); several: one run per seed in <out>/seed<S>/, then <out>/seeds.{json,md,png} with "
                   "each metric's mean and spread over the seeds")
    m.add_argument("--force", action="store_true", help="regenerate outputs another run (model, settings or "
                   "selection) left in --out; without it such a folder is an error")
    m.add_argument("--steps", type=int, default=None, help="flow ODE steps (default: the model's)")
    m.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="LM and flow decoder precision (auto: bf16 where the hardware has it natively)")
    m.add_argument("--max-prompt-seconds", type=float, default=None,
                   help="cut the flow's speaker prompt to this (default: the pipeline's, 10 s)")
    m.add_argument("--temperature", type=float, default=None,
                   help="LM sampling temperature (default: the pipeline's, 0.7)")
    m.add_argument("--top-k", type=int, default=None, help="LM sampling top-k (default: 25)")
    m.add_argument("--top-p", type=float, default=None, help="LM sampling top-p (default: 0.8)")
    m.add_argument("--candidates", type=int, default=None,
                   help="LM token sequences sampled per sentence, the best-read one kept (default: the pipeline's, 8)")
    m.add_argument("--phone-guidance", type=float, default=None,
                   help="the flow decoder's phone guidance (default: the model's)")
    m.add_argument("--iterations", type=int, default=1, help="iterative refinement passes")
    m.add_argument("--selection", choices=("virtual", "real-pool", "fixed"), default="virtual",
                   help="cross-style task prompt: the bundle's virtual pool, a pool of real clips, or one prompt")
    m.add_argument("--pools", metavar="DIR", help="select from this pools folder instead of the bundle's (e.g. a "
                   "pool of real clips for --selection real-pool, or an N2A-bootstrapped one)")
    m.add_argument("--fixed-prompt", metavar="WAV", help="the prompt for --selection fixed")
    m.add_argument("--fixed-prompt-text", help="its transcript")
    m.add_argument("--no-prompt-text", action="store_true", help="withhold the clips' transcripts")
    m.set_defaults(func=cmd_eval_model)

    b = subparsers.add_parser(
        "baseline",
        help="the DSP baseline on test sets: a synthesizer voice warped towards the prompt by WORLD, then scored",
        description="For each test set: <out>/<LANG>_<TASK>/<key>.wav from a TTS + WORLD cascade (one synthesizer "
        "voice per language; a spectral-envelope warp per prompt chosen by speaker similarity; pitch matched for "
        "normal output, pseudo-whisper for ASMR) with the chosen warps in baseline_log.json, then the same scores "
        "as `deepasmr eval-model`; writes <out>/eval.{json,md,png}.",
    )
    _add_run_arguments(b)
    b.set_defaults(func=cmd_baseline)

    c = subparsers.add_parser(
        "eval-corpus",
        help="R_UV per language/style, speaker identification by SIM, WER/CER per source voice of a manifest",
    )
    c.add_argument("--manifest", required=True, help="manifest.jsonl (paths relative to its folder)")
    c.add_argument("--split", default="test", help="which split to measure (default test: held-out speakers)")
    c.add_argument("--per-speaker", type=int, default=4, help="utterances per speaker and style (default 4)")
    c.add_argument("--no-asr", action="store_true", help="skip WER/CER")
    c.add_argument("--out", default=None, metavar="DIR", help="also write corpus_eval.json and .md here")
    c.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes for PYIN")
    c.set_defaults(func=cmd_eval_corpus)


def cmd_analyze(args: argparse.Namespace) -> int:
    import json
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(path, args.plot, len(args.files)) for path in args.files]
    if args.workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            outcomes = list(pool.map(_analyze_one, jobs))
    else:
        outcomes = [_analyze_one(job) for job in jobs]
    failed = 0
    for outcome in outcomes:
        if isinstance(outcome, str):
            failed += 1
            print(f"deepasmr analyze: error: {outcome}", file=sys.stderr)
        elif args.json:
            print(json.dumps(outcome, ensure_ascii=False), flush=True)
        else:
            print(_describe(outcome), flush=True)
    return 1 if failed else 0


def _analyze_one(job: tuple[str, str | None, int]) -> dict | str:
    """One file; errors come back as text so the other files still run."""
    from deepasmr.errors import DeepASMRError
    from deepasmr.eval.analyze import analyze_file, plot_analysis, plot_path

    path, plot, n_files = job
    try:
        result, track, wav = analyze_file(path)
        if plot:
            result["plot"] = str(
                plot_analysis(wav, result["sample_rate"], track, result, plot_path(plot, path, n_files))
            )
        return result
    except DeepASMRError as err:
        return str(err)


def _describe(r: dict) -> str:
    f0 = f"F0 median {r['f0_median_hz']:.0f} Hz" if r["f0_median_hz"] else "no F0"
    r_uv = "n/a" if r["r_uv"] is None else f"{100 * r['r_uv']:.1f} %"
    line = (
        f"{r['path']}: {r['duration_s']:.2f} s, {r['active_rms_dbfs']} dBFS active RMS "
        f"(peak {r['peak_dbfs']}), {f0}, R_UV {r_uv} of {r['n_active']} active frames -> {r['style']}"
    )
    return line + (f" [plot {r['plot']}]" if "plot" in r else "")


def cmd_eval(args: argparse.Namespace) -> int:
    from deepasmr.errors import DataError
    from deepasmr.eval.report import render_markdown, write_report
    from deepasmr.eval.testset import EvalConfig, evaluate_testset

    if len(args.generated) not in (1, len(args.testset)):
        raise DataError("give one --generated folder, or one per --testset")
    generated = args.generated * len(args.testset) if len(args.generated) == 1 else args.generated
    config = EvalConfig(language=args.language, asr_model=args.asr, workers=max(1, args.workers),
                        phone_reader=args.per_tokenizer)
    results = [
        evaluate_testset(ts, args.audio_root, gen, config) for ts, gen in zip(args.testset, generated, strict=True)
    ]
    paths = write_report(results, args.out)
    print(render_markdown(results))
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def cmd_eval_corpus(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from deepasmr.eval.corpus import CorpusEvalConfig, evaluate_corpus, render_corpus_markdown

    config = CorpusEvalConfig(
        split=args.split, per_speaker_style=max(2, args.per_speaker), workers=max(1, args.workers), asr=not args.no_asr
    )
    result = evaluate_corpus(args.manifest, config)
    markdown = render_corpus_markdown(result)
    print(markdown)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "corpus_eval.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        (out / "corpus_eval.md").write_text(markdown, encoding="utf-8")
    return 0


def _language_of(testset: str) -> str:
    from pathlib import Path

    return "zh" if Path(testset).name.upper().startswith("ZH") else "en"


def _run_name(testset: str) -> str:
    """'.../ZH_N2A_testset.json' -> 'ZH_N2A': the folder a system's outputs for that set go in."""
    from deepasmr.eval.testset import task_name

    return f"{_language_of(testset).upper()}_{task_name(testset)}"


def _score_runs(runs: list[tuple], args: argparse.Namespace, out) -> list[dict]:
    """Score each (test set, generated folder) over the entries generated (the `limit` spread), beside the ground
    truth's own figures, then write <out>/eval.{json,md,png}, print the table and return the results."""
    from deepasmr.eval.report import render_markdown, write_report
    from deepasmr.eval.synthesize import subset_testset
    from deepasmr.eval.testset import EvalConfig, evaluate_testset

    results = []
    for testset, gen in runs:
        scored = subset_testset(testset, args.limit, gen / "testset.json")
        config = EvalConfig(language=_language_of(testset), workers=max(1, args.workers),
                            phone_reader=args.per_tokenizer)
        results.append(evaluate_testset(scored, args.audio_root, gen, config, task=_run_name(testset)))
    if results:
        paths = write_report(results, out)
        print(render_markdown(results))
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return results


def cmd_eval_model(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import torch

    from deepasmr.atomic import write_text_atomic
    from deepasmr.errors import DataError
    from deepasmr.eval.seeds import seed_folder, write_seed_report
    from deepasmr.eval.synthesize import RunConfig, synthesize_testset
    from deepasmr.pipeline import DeepASMR
    from deepasmr.pipeline.config import RouteOptions, speak_config

    torch.set_num_threads(max(1, args.threads))
    pools = fixed = None
    if args.selection == "real-pool" and not args.pools:
        raise DataError("--selection real-pool needs --pools DIR")
    if args.pools:
        from deepasmr.speaker.pool import load_pools

        pools = load_pools(args.pools)
    if args.selection == "fixed":
        if not (args.fixed_prompt and args.fixed_prompt_text):
            raise DataError("--selection fixed needs --fixed-prompt WAV and --fixed-prompt-text")
        fixed = (args.fixed_prompt, args.fixed_prompt_text)
    route = RouteOptions(mode=args.selection, pools=pools, fixed_prompt=fixed)
    model = DeepASMR.load(args.model, speak_config(args.precision, max_prompt_seconds=args.max_prompt_seconds,
                                                   temperature=args.temperature, top_k=args.top_k,
                                                   top_p=args.top_p, candidates=args.candidates,
                                                   phone_cfg_strength=args.phone_guidance))
    seeds = list(dict.fromkeys(args.seed))
    per_seed = {}
    for seed in seeds:
        out = Path(args.out) if len(seeds) == 1 else seed_folder(args.out, seed)
        run = RunConfig(seed=seed, steps=args.steps, iterations=args.iterations, limit=args.limit,
                        use_prompt_text=not args.no_prompt_text)
        runs, logs = [], []
        for testset in args.testset:
            gen = out / _run_name(testset)
            logs.append(synthesize_testset(model, testset, args.audio_root, gen, run, route, force=args.force))
            runs.append((testset, gen))
        write_text_atomic(out / "synthesis_logs.json", json.dumps(logs, indent=1, ensure_ascii=False))
        if not args.no_score:
            per_seed[seed] = _score_runs(runs, args, out)
    if len(seeds) > 1 and per_seed:
        paths = write_seed_report(per_seed, args.out)
        print(paths["md"].read_text(encoding="utf-8"))
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from deepasmr.eval.baseline import run_baseline

    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    runs = []
    for testset in args.testset:
        gen = out / _run_name(testset)
        log = run_baseline(testset, args.audio_root, gen, _language_of(testset), limit=args.limit)
        print(f"{gen.name}: {log['written']} written, {log['kept']} kept, {len(log['failed'])} failed "
              f"in {log['seconds_wall']:.0f} s", flush=True)
        for failure in log["failed"]:
            print(f"deepasmr baseline: {gen.name} {failure['key']}: {failure['error']}", file=sys.stderr)
        runs.append((testset, gen))
    if not args.no_score:
        _score_runs(runs, args, out)
    return 0
