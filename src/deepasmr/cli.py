"""`deepasmr` command line. Each stage package contributes its subcommands through `add_commands`.

Stage CLI modules import only argparse at module level, so `deepasmr --help` stays fast; heavy
libraries load inside the command that needs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from deepasmr import __version__
from deepasmr.errors import DeepASMRError

# Modules that define `add_commands(subparsers)`; a module missing here simply adds nothing.
COMMAND_MODULES = (
    "deepasmr.data.cli",
    "deepasmr.eval.cli",
    "deepasmr.speaker.cli",
    "deepasmr.pipeline.cli",
    "deepasmr.vocoder.cli",
    "deepasmr.tokenizer.cli",
    "deepasmr.train.cli",
    "deepasmr.serve.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepasmr", description="Zero-shot ASMR speech in anyone's voice.")
    parser.add_argument("--version", action="version", version=f"deepasmr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and name.startswith(err.name):
                continue
            raise
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DeepASMRError as err:
        print(f"deepasmr: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `deepasmr ... | head`: the reader left; not an error worth a traceback.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("deepasmr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
