"""Load test of `deepasmr serve` on loopback: N concurrent speech requests, each must be served (200) or refused
(429 with Retry-After); anything else counts as lost and fails the run.

    .venv/bin/python benchmarks/serve_load.py --model DIR [--requests 50] [--concurrency 50] [--max-queue 8]
    .venv/bin/python benchmarks/serve_load.py --url http://127.0.0.1:8000 [--api-key KEY]

With --model it starts `python -m deepasmr serve` itself on a free loopback port (a temporary voice folder,
one torch thread), waits for /health, sends one warm-up request (not counted), runs the burst and stops the
server. Only loopback URLs are accepted. Bounded: --requests in all, each with --request-timeout, the whole
burst within --deadline. Prints counts, throughput (served per second of burst wall time) and p50/p95 latency;
--json writes the same summary to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

TEXT = "Soft rain falls."


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 4)


def _loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, max_queue: int, data_dir: str, timeout: float) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "deepasmr", "serve", "--host", "127.0.0.1", "--port", str(port), "--model", model,
           "--data-dir", data_dir, "--max-queue", str(max_queue), "--torch-threads", "1", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{proc.stdout.read()}")
        try:
            health = httpx.get(f"{url}/health", timeout=2).json()
            if not health.get("ready"):
                stop_server(proc)
                raise RuntimeError(f"the server has no model: {health.get('model_error')}")
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.25)
    stop_server(proc)
    raise RuntimeError(f"the server did not answer /health within {timeout:g} s")


def stop_server(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(2)  # SIGINT: uvicorn's graceful shutdown
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


async def _one(client: httpx.AsyncClient, body: dict, i: int) -> dict:
    start = time.perf_counter()
    try:
        r = await client.post("/v1/audio/speech", json=body)
        out = {"i": i, "status": r.status_code, "bytes": len(r.content), "retry_after": r.headers.get("Retry-After")}
        if r.status_code not in (200, 429):
            out["error"] = r.text[:200]
    except httpx.HTTPError as err:
        out = {"i": i, "status": None, "error": f"{type(err).__name__}: {err}"}
    out["latency"] = time.perf_counter() - start
    return out


async def burst(url: str, n: int, concurrency: int, body: dict, headers: dict, request_timeout: float,
                deadline: float) -> tuple[list[dict], float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=request_timeout, limits=limits, headers=headers) as client:
        start = time.perf_counter()
        tasks = [asyncio.ensure_future(_one(client, body, i)) for i in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=deadline)
        for t in pending:
            t.cancel()
        wall = time.perf_counter() - start
    results = [t.result() for t in done]
    results += [{"i": -1, "status": None, "error": "cut by --deadline", "latency": wall} for _ in pending]
    return results, wall


def summarize(results: list[dict], wall: float, n: int, concurrency: int) -> dict:
    served = [r for r in results if r["status"] == 200]
    refused = [r for r in results if r["status"] == 429]
    lost = [r for r in results if r["status"] not in (200, 429)]
    return {
        "requests": n, "concurrency": concurrency, "served": len(served), "rejected_429": len(refused),
        "lost": len(lost), "timed_out_504": sum(r["status"] == 504 for r in results), "wall_s": round(wall, 3),
        "throughput_served_per_s": round(len(served) / wall, 3) if wall > 0 else None,
        "answered_per_s": round((len(served) + len(refused)) / wall, 3) if wall > 0 else None,
        "latency_served_s": {"p50": _percentile([r["latency"] for r in served], 0.5),
                             "p95": _percentile([r["latency"] for r in served], 0.95),
                             "max": _percentile([r["latency"] for r in served], 1.0)},
        "latency_429_s": {"p50": _percentile([r["latency"] for r in refused], 0.5),
                          "p95": _percentile([r["latency"] for r in refused], 0.95)},
        "latency_all_s": {"p50": _percentile([r["latency"] for r in results], 0.5),
                          "p95": _percentile([r["latency"] for r in results], 0.95)},
        "retry_after_s": sorted({int(r["retry_after"]) for r in refused if r.get("retry_after")}),
        "lost_examples": [r.get("error") for r in lost[:3]],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running server on loopback")
    where.add_argument("--model", help="start `deepasmr serve --model DIR` for the run")
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--max-queue", type=int, default=8, help="the started server's queue bound (with --model)")
    ap.add_argument("--voice", default="default")
    ap.add_argument("--text", default=TEXT)
    ap.add_argument("--format", default="wav")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=2, help="requests sent one by one before the burst (the first "
                                                           "pays lazy imports; the second gives a warm service time)")
    ap.add_argument("--request-timeout", type=float, default=300.0)
    ap.add_argument("--deadline", type=float, default=600.0, help="the whole burst's time bound (s)")
    ap.add_argument("--start-timeout", type=float, default=600.0, help="wait this long for a started server (s)")
    ap.add_argument("--api-key", default=os.environ.get("DEEPASMR_API_KEY"))
    ap.add_argument("--json", help="also write the summary here")
    args = ap.parse_args(argv)
    if not (1 <= args.requests <= 1000 and 1 <= args.concurrency <= 200):
        ap.error("--requests must be 1..1000 and --concurrency 1..200")
    if args.url and not _loopback(args.url):
        ap.error("only loopback servers (127.0.0.0/8, ::1, localhost) are load-tested")

    body = {"model": "deepasmr", "input": args.text, "voice": args.voice, "response_format": args.format, "seed": 0}
    if args.steps is not None:
        body["steps"] = args.steps
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    proc, tmp = None, None
    try:
        if args.model:
            tmp = tempfile.TemporaryDirectory(prefix="deepasmr-load-")
            started = time.perf_counter()
            proc, url = start_server(args.model, args.max_queue, tmp.name, timeout=args.start_timeout)
            print(f"server up at {url} in {time.perf_counter() - started:.1f} s", flush=True)
        else:
            url = args.url.rstrip("/")
        for _ in range(args.warmup):
            r = httpx.post(f"{url}/v1/audio/speech", json=body, headers=headers, timeout=args.request_timeout)
            if r.status_code != 200:
                print(f"warm-up request failed: {r.status_code} {r.text[:300]}", file=sys.stderr)
                return 1
        results, wall = asyncio.run(burst(url, args.requests, args.concurrency, body, headers,
                                          args.request_timeout, args.deadline))
        summary = summarize(results, wall, args.requests, args.concurrency)
        summary["server_metrics"] = {line.split(" ")[0]: line.split(" ")[1] for line in
                                     httpx.get(f"{url}/metrics", headers=headers, timeout=10).text.splitlines()
                                     if line.startswith(("deepasmr_queue_rejected_total", "deepasmr_queue_capacity",
                                                         "deepasmr_queue_completed_total"))}
    finally:
        if proc is not None:
            code = stop_server(proc)
            if code not in (0, 130, -2):  # uvicorn re-raises the SIGINT it shut down on
                print(f"server exit status {code}", file=sys.stderr)
        if tmp is not None:
            tmp.cleanup()
    lat, rej = summary["latency_served_s"], summary["latency_429_s"]
    print(f"{summary['requests']} requests, {summary['concurrency']} concurrent: {summary['served']} served, "
          f"{summary['rejected_429']} answered 429 (Retry-After {summary['retry_after_s']} s), {summary['lost']} lost")
    print(f"burst wall {summary['wall_s']} s; throughput {summary['throughput_served_per_s']} served/s, "
          f"{summary['answered_per_s']} answered/s")
    print(f"latency served p50 {lat['p50']} s, p95 {lat['p95']} s (max {lat['max']} s); 429 p50 {rej['p50']} s, "
          f"p95 {rej['p95']} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=1))
    return 0 if summary["lost"] == 0 and summary["served"] + summary["rejected_429"] == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
