"""`deepasmr data ...` subcommands: synth, testsets, import, stats. Only argparse at module level."""

from __future__ import annotations

import argparse


def _synth(args: argparse.Namespace) -> int:
    from deepasmr.data.plan import SynthConfig
    from deepasmr.data.synth import rebuild_manifest, run_synth

    if args.rebuild_manifest:
        print(rebuild_manifest(args.out))
        return 0
    cfg = SynthConfig(hours=args.hours, seed=args.seed, jobs=args.jobs,
                      speakers=tuple(args.speakers.split(",")) if args.speakers else None,
                      utts_per_speaker=args.utts_per_speaker)
    print(run_synth(args.out, cfg))
    return 0


def _testsets(args: argparse.Namespace) -> int:
    from deepasmr.data.testsets import train_texts, write_testsets

    exclude = set().union(*(train_texts(c) for c in args.exclude_train_of))
    for path, count in write_testsets(args.corpus, args.out, split=args.split, seed=args.seed,
                                      exclude_texts=exclude).items():
        print(f"{path}: {count} entries")
    return 0


def _import(args: argparse.Namespace) -> int:
    from deepasmr.data.importers import run_import

    report = run_import(args.kind, args.source, args.out, audio_root=args.audio_root, language=args.language,
                        style=args.style, split=args.split, copy_audio=not args.no_copy)
    print(report.summary())
    return 0 if report.ok else 1


def _stats(args: argparse.Namespace) -> int:
    import json

    from deepasmr.data.stats import corpus_stats, format_stats

    stats = corpus_stats(args.manifest)
    print(json.dumps(stats, indent=1, ensure_ascii=False) if args.json else format_stats(stats))
    return 0


def add_commands(subparsers) -> None:
    data = subparsers.add_parser("data", help="build, import and split corpora")
    sub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    data.set_defaults(func=lambda a: data.print_help() or 2)

    p = sub.add_parser("synth", help="synthesise the bilingual normal+ASMR multi-speaker corpus")
    p.add_argument("--out", required=True, help="output folder (resumable: a rerun skips finished audio)")
    p.add_argument("--hours", type=float, default=3.0, help="approximate total audio (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2, help="worker processes")
    p.add_argument("--speakers", help="comma-separated speaker ids (default: the whole roster)")
    p.add_argument("--utts-per-speaker", type=int, help="fixed count instead of deriving it from --hours")
    p.add_argument("--rebuild-manifest", action="store_true", help="only rewrite manifest.jsonl from parts/")
    p.set_defaults(func=_synth)

    p = sub.add_parser("testsets", help="write the paper's N2A/A2A/A2N/N2N test-set JSON per language")
    p.add_argument("--corpus", required=True, help="corpus folder (holds manifest.jsonl)")
    p.add_argument("--out", required=True)
    p.add_argument("--split", default="test", choices=("train", "dev", "test"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--exclude-train-of", action="append", default=[], metavar="CORPUS",
                   help="leave out sentences of this corpus's train split (a model trained there has read them)")
    p.set_defaults(func=_testsets)

    p = sub.add_parser("import", help="convert external data to a corpus manifest")
    p.add_argument("kind", choices=("deepasmr-db", "testset", "folder", "jsonl"))
    p.add_argument("source", help="parquet file/folder, test-set JSON, audio folder, or JSONL manifest")
    p.add_argument("--out", required=True, help="output corpus folder")
    p.add_argument("--audio-root", help="root the test set's / manifest's audio paths are relative to")
    p.add_argument("--language", choices=("en", "zh"), help="default: detected from each transcript")
    p.add_argument("--style", choices=("normal", "asmr"), help="style of every row (DeepASMR-DB: asmr)")
    p.add_argument("--split", default="train", choices=("train", "dev", "test"))
    p.add_argument("--no-copy", action="store_true", help="reference audio in place instead of copying")
    p.set_defaults(func=_import)

    p = sub.add_parser("stats", help="speakers, utterances and hours per language/style/split")
    p.add_argument("manifest")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_stats)
