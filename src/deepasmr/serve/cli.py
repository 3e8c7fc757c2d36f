"""`deepasmr serve`: the HTTP API and web page on uvicorn (argparse only at module level)."""

from __future__ import annotations

import argparse


def _config(args: argparse.Namespace):
    import os
    from pathlib import Path

    from deepasmr.serve.config import API_KEY_ENV, ServeConfig

    def path(value):
        return Path(value).expanduser() if value else None

    changes = dict(host=args.host, port=args.port, model=path(args.model), data_dir=path(args.data_dir),
                   default_voice=path(args.default_voice), api_key=args.api_key or os.environ.get(API_KEY_ENV))
    for name in ("workers", "max_queue", "torch_threads", "max_text_chars", "max_clip_seconds"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.timeout is not None:
        changes["request_timeout_s"] = args.timeout
    if args.max_upload_mb is not None:
        changes["max_upload_bytes"] = int(args.max_upload_mb * 1024 * 1024)
    return ServeConfig(**changes)


def _serve(args: argparse.Namespace) -> int:
    config = _config(args)
    config.check_exposure(args.allow_no_key)
    import uvicorn

    from deepasmr.serve.app import create_app

    app = create_app(config)
    shown = f"[{config.host}]" if ":" in config.host else config.host
    print(f"deepasmr serve: http://{shown}:{config.port}/ (web page), /v1/audio/speech, /v1/voices, /health, "
          f"/metrics, /openapi.json; voices in {config.voices_dir}", flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level=args.log_level, timeout_graceful_shutdown=10,
                access_log=args.access_log)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("serve", help="serve the HTTP API (OpenAI-shaped /v1/audio/speech) and a web page")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--model", help="model bundle folder (default: $DEEPASMR_MODEL or the embedded models/tiny)")
    p.add_argument("--data-dir", help="where registered voices live (default: $DEEPASMR_SERVE_DIR or "
                                      "~/.local/share/deepasmr/serve)")
    p.add_argument("--default-voice", help="clip behind voice='default' (default: <model>/voices/default.wav, "
                                           "else an English normal-style pool clip)")
    p.add_argument("--api-key", help="require this key on the API (Authorization: Bearer KEY or X-API-Key; "
                                     "default: $DEEPASMR_API_KEY)")
    p.add_argument("--allow-no-key", action="store_true", help="allow binding beyond loopback without an API key")
    p.add_argument("--workers", type=int, help="synthesis threads sharing the model (default 1)")
    p.add_argument("--max-queue", type=int, help="jobs queued or running before 429 (default 8)")
    p.add_argument("--timeout", type=float, help="per-request timeout in seconds, queue wait included (default 120)")
    p.add_argument("--torch-threads", type=int, help="torch CPU threads (default 1; 0 = torch's choice)")
    p.add_argument("--max-text-chars", type=int, help="longest accepted input text (default 2000)")
    p.add_argument("--max-clip-seconds", type=float, help="longest accepted voice clip (default 30)")
    p.add_argument("--max-upload-mb", type=float, help="largest accepted upload in MiB (default 10)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=_serve)
