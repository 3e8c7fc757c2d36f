"""`deepasmr pool build | list | show | select | tokens`: the virtual speaker pools. Only argparse at import."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _config(args: argparse.Namespace):
    from deepasmr.speaker.pool import PoolConfig

    return PoolConfig(per_style=args.per_style, seed=args.seed, splits=tuple(args.splits),
                      audio_format=args.audio_format)


def _load_synthesizer(bundle: Path):
    """The N2A pipeline of `bundle` as synthesize(text, voice_wav, style) -> (wav, sr).

    Loading raises ModelFilesError naming the missing stage files when the bundle has no trained lm/flow."""
    from deepasmr.pipeline import DeepASMR

    model = DeepASMR.load(bundle)
    return lambda text, voice, style: model.speak(text, voice=voice, style=style)


def _build(args: argparse.Namespace) -> int:
    from deepasmr.errors import DataError
    from deepasmr.speaker import pool as P
    from deepasmr.speaker import pool_build as B

    sources = [x for x in (args.corpus, args.from_folder, args.from_normal or None) if x]
    if len(sources) != 1:
        raise DataError("pool build needs exactly one of --corpus MANIFEST, --from-folder DIR, --from-normal")
    cfg = _config(args)
    if args.corpus:
        written = B.build_from_corpus(args.corpus, args.out, cfg, args.tokenizer)
    elif args.from_folder:
        written = B.build_from_folder(args.from_folder, args.out, cfg, args.style, args.language, args.tokenizer)
    else:
        synthesize = _load_synthesizer(Path(args.bundle) if args.bundle else Path(args.out).resolve().parent)
        written = {"asmr": B.build_from_normal(args.out, synthesize, cfg, args.tokenizer)}
    for style, path in written.items():
        comp = P.composition(P.load_pool(path))
        print(f"{style}: {path} {json.dumps(comp, ensure_ascii=False)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from deepasmr.speaker.pool import load_pools

    for style, pool in load_pools(args.dir).items():
        for e in pool.entries:
            if args.json:
                print(json.dumps({"id": e.id, "style": e.style, "language": e.language, "text": e.text},
                                 ensure_ascii=False))
            else:
                print(f"{e.id}\t{style}\t{e.language}\t{e.gender}/{e.pitch}/{e.rate}\t{e.duration:.2f}s\t{e.text}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from deepasmr.errors import DataError
    from deepasmr.speaker.pool import composition, load_pools

    pools = load_pools(args.dir)
    if args.id is None:
        print(json.dumps({s: composition(p) for s, p in pools.items()}, indent=1, ensure_ascii=False))
        return 0
    for pool in pools.values():
        for e in pool.entries:
            if e.id == args.id:
                row = {**e.to_dict(), "audio_path": str(pool.audio_path(e)),
                       "n_tokens": None if e.tokens is None else len(e.tokens)}
                if not args.tokens:
                    row.pop("tokens")
                print(json.dumps(row, indent=1, ensure_ascii=False))
                return 0
    raise DataError(f"{args.dir}: no pool entry {args.id!r}")


def _select(args: argparse.Namespace) -> int:
    from deepasmr.errors import DataError
    from deepasmr.speaker.select import Prompt, route_task

    fixed = None
    if args.mode == "fixed":
        if not (args.fixed_audio and args.fixed_text):
            raise DataError("--mode fixed needs --fixed-audio and --fixed-text")
        fixed = Prompt(audio=Path(args.fixed_audio), text=args.fixed_text, style=args.output_style,
                       language=args.language)
    route = route_task(args.clip, args.output_style, clip_text=args.clip_text, clip_style=args.clip_style,
                       language=args.language, mode=args.mode, pools=args.pools, fixed=fixed)
    print(json.dumps(route.to_dict(), indent=1, ensure_ascii=False))
    return 0


def _tokens(args: argparse.Namespace) -> int:
    from deepasmr.speaker.pool import META, fill_tokens, load_pools

    root = Path(args.dir)
    for style in load_pools(root):
        path = root if (root / META).is_file() else root / style
        print(f"{style}: tokens filled in {fill_tokens(path, args.tokenizer)}")
    return 0


def add_commands(subparsers) -> None:
    pool = subparsers.add_parser("pool", help="virtual speaker pools (task prompts for cross-style tasks)")
    sub = pool.add_subparsers(dest="pool_command", metavar="POOL_COMMAND")
    pool.set_defaults(func=lambda a: pool.print_help() or 2)

    b = sub.add_parser("build", help="build pools (writes OUT/normal and OUT/asmr, e.g. OUT=<bundle>/pools)")
    b.add_argument("--out", required=True, help="pools folder; each style's pool is replaced atomically")
    b.add_argument("--corpus", help="synthesised corpus manifest.jsonl (virtual speakers, never the test split)")
    b.add_argument("--from-folder", help="folder of clips with same-name .txt transcripts (the 'real pool')")
    b.add_argument("--from-normal", action="store_true",
                   help="make OUT/asmr by running N2A on OUT/normal (the paper's way; needs lm/flow)")
    b.add_argument("--bundle", help="with --from-normal: model bundle folder (default: the parent of --out)")
    b.add_argument("--per-style", type=int, default=50, help="entries per style from a corpus (default 50)")
    b.add_argument("--splits", nargs="+", default=["train", "dev"], choices=["train", "dev"],
                   help="corpus splits whose speakers may enter (default: train dev)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--tokenizer", help="tokenizer model folder: fill each entry's speech tokens")
    b.add_argument("--style", choices=["normal", "asmr"], help="with --from-folder: skip R_UV style detection")
    b.add_argument("--language", choices=["en", "zh"], help="with --from-folder: skip script-based detection")
    b.add_argument("--audio-format", choices=["flac", "wav"], default="flac", help="clip format (16-bit)")
    b.set_defaults(func=_build)

    ls = sub.add_parser("list", help="entries of a pool or pools folder")
    ls.add_argument("dir")
    ls.add_argument("--json", action="store_true", help="one JSON object per entry: id, style, language, text")
    ls.set_defaults(func=_list)

    sh = sub.add_parser("show", help="one entry in full (or, without ID, the pools' composition)")
    sh.add_argument("dir")
    sh.add_argument("id", nargs="?")
    sh.add_argument("--tokens", action="store_true", help="include the token list")
    sh.set_defaults(func=_show)

    se = sub.add_parser("select", help="route a task: which task prompt a user's clip gets for an output style")
    se.add_argument("clip", help="the user's clip (the speaker prompt)")
    se.add_argument("--output-style", required=True, choices=["normal", "asmr"])
    se.add_argument("--pools", help="pools folder (virtual or real-pool mode)")
    se.add_argument("--mode", choices=["virtual", "real-pool", "fixed"], default="virtual")
    se.add_argument("--clip-style", choices=["normal", "asmr"], help="default: the clip's R_UV verdict")
    se.add_argument("--clip-text", help="the clip's transcript (the task prompt text of intra-style tasks)")
    se.add_argument("--language", choices=["en", "zh"], help="the target text's language")
    se.add_argument("--fixed-audio", help="--mode fixed: the one task prompt's audio")
    se.add_argument("--fixed-text", help="--mode fixed: its transcript")
    se.set_defaults(func=_select)

    t = sub.add_parser("tokens", help="(re)fill an existing pool's speech tokens with a tokenizer")
    t.add_argument("dir")
    t.add_argument("--tokenizer", required=True, help="tokenizer model folder")
    t.set_defaults(func=_tokens)
