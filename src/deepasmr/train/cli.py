"""`deepasmr train STAGE --config FILE [--set key=value ...] [--resume]` (argparse only at import time)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    from deepasmr.train.registry import stage_names

    p = sub.add_parser("train", help="train one stage (tokenizer, lm, flow, vocoder, ...) with Lightning",
                       description="Train a stage. The same command runs on CPU or N GPUs/nodes by config "
                                   "(trainer.devices, trainer.num_nodes, trainer.strategy).")
    p.add_argument("stage", help=f"stage name ({', '.join(stage_names())})")
    p.add_argument("--config", help="YAML file mapped onto the stage's config dataclass (key `preset:` picks "
                                    "tiny or paper)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set trainer.max_steps=100 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue exactly from the run's last checkpoint")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    p.add_argument("--export-from", metavar="CKPT", help="only export the weights of this checkpoint (to --export-to)")
    p.add_argument("--export-to", metavar="DIR", help="folder for --export-from (default: <out_dir>/export)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from deepasmr.train.config import load_config, to_yaml
    from deepasmr.train.registry import get_stage
    from deepasmr.train.runner import train

    spec = get_stage(args.stage)
    cfg = load_config(spec.config_cls, spec.presets, args.config, args.overrides)
    if args.print_config:
        print(to_yaml(cfg), end="")
        return 0
    if args.export_from:
        from deepasmr.train.runner import export_checkpoint

        dest = args.export_to or f"{cfg.trainer.out_dir}/export"
        print(f"exported {export_checkpoint(args.stage, cfg, args.export_from, dest)}")
        return 0
    summary = train(args.stage, cfg, resume=args.resume)
    if summary["rank"] == 0:
        print(f"trained {args.stage}: {summary['global_step']} steps -> {cfg.trainer.out_dir}")
    return 0
