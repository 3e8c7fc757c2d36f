"""`deepasmr tokenize` and `deepasmr analyze-tokens` (argparse only at import time)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_MODEL = "models/tiny"


def resolve_model_dir(path: str) -> Path:
    """A given folder, else the repository's embedded bundle folder of that name."""
    from deepasmr.errors import ModelFilesError

    candidate = Path(path)
    if (candidate / "tokenizer.json").is_file() or candidate.suffix == ".json":
        return candidate
    repo = Path(__file__).resolve().parents[3] / path
    if (repo / "tokenizer.json").is_file():
        return repo
    raise ModelFilesError(f"{path}: no tokenizer.json there (train one: deepasmr train tokenizer ...)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokenize", help="speech -> discrete tokens (files, or a manifest into feature shards)")
    p.add_argument("files", nargs="*", help="audio files to tokenize")
    p.add_argument("--model", default=DEFAULT_MODEL, help="folder with tokenizer.json + tokenizer.safetensors")
    p.add_argument("--out", help="write JSON lines {path, tokens, token_rate_hz[, phones]} here instead of printing")
    p.add_argument("--phones", action="store_true", help="also decode phones from the tokens (CTC greedy)")
    p.add_argument("--manifest", help="batch extraction: tokenize every row of this manifest.jsonl")
    p.add_argument("--out-shards", help="with --manifest: folder for the safetensors shards + index.jsonl")
    p.add_argument("--splits", nargs="*", help="with --manifest: only these splits (default: all)")
    p.add_argument("--shard-size", type=int, default=256, help="utterances per shard")
    p.add_argument("--no-speaker", action="store_true", help="skip speaker embeddings in shards")
    p.set_defaults(func=_tokenize)

    a = sub.add_parser("analyze-tokens", help="style/speaker probes, codebook use and PER of a tokenizer")
    a.add_argument("--model", default=DEFAULT_MODEL)
    a.add_argument("--manifest", required=True, help="corpus manifest (held-out = dev + test speakers)")
    a.add_argument("--out", default="runs/analysis", help="folder for analysis.json and the t-SNE PNG")
    a.add_argument("--max-train-utts", type=int, default=600, help="training utterances for the style probe")
    a.set_defaults(func=_analyze)


def _tokenize(args: argparse.Namespace) -> int:
    import json

    import torch

    from deepasmr.errors import DataError

    model_dir = resolve_model_dir(args.model)
    if args.manifest:
        if not args.out_shards:
            raise DataError("--manifest needs --out-shards DIR")
        from deepasmr.data.shards import ShardConfig, extract_shards

        cfg = ShardConfig(utterances_per_shard=args.shard_size, speaker_embedding=not args.no_speaker)
        index = extract_shards(args.manifest, model_dir, args.out_shards,
                               tuple(args.splits) if args.splits else None, cfg)
        print(f"wrote {index}")
        return 0
    if not args.files:
        raise DataError("give audio files, or --manifest M --out-shards DIR")
    from deepasmr.audio import MelConfig
    from deepasmr.tokenizer.dataset import mel_of_file
    from deepasmr.tokenizer.io import load_tokenizer

    torch.set_grad_enabled(False)
    model, vocab, meta = load_tokenizer(model_dir)
    mel_cfg = MelConfig(**meta["mel"])
    lines = []
    for path in args.files:
        tokens = model.encode(mel_of_file(path, mel_cfg))[0]
        item = {"path": path, "tokens": tokens.tolist(), "token_rate_hz": meta["token_rate_hz"]}
        if args.phones:
            item["phones"] = " ".join(vocab.decode(model.tokens_to_phone_ids([tokens])[0]))
        lines.append(item)
    if args.out:
        Path(args.out).write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    else:
        for x in lines:
            print(f"{x['path']}\t{' '.join(map(str, x['tokens']))}")
            if args.phones:
                print(f"{x['path']}\tphones: {x['phones']}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    import torch

    from deepasmr.tokenizer.analysis import AnalysisConfig, analyze, format_report

    torch.set_grad_enabled(False)
    report = analyze(resolve_model_dir(args.model), args.manifest, args.out,
                     AnalysisConfig(max_train_utts=args.max_train_utts))
    print(format_report(report))
    return 0
