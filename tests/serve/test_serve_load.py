"""benchmarks/serve_load.py against the real loopback server: 50 concurrent requests, none lost — each is
served or answered 429 with Retry-After (the test server's queue holds 4)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("serve_load", REPO / "benchmarks" / "serve_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fifty_concurrent_requests_are_served_or_refused(live, tmp_path, capsys):
    bench = _load_benchmark()
    out = tmp_path / "load.json"
    code = bench.main(["--url", live.url, "--requests", "50", "--concurrency", "50", "--warmup", "0", "--steps", "1",
                       "--text", "Hush.", "--request-timeout", "120", "--deadline", "240", "--json", str(out)])
    summary = json.loads(out.read_text())
    printed = capsys.readouterr().out
    assert code == 0, summary
    assert summary["lost"] == 0 and summary["served"] + summary["rejected_429"] == 50
    assert summary["served"] >= 1 and summary["rejected_429"] >= 1  # the queue bound was hit, and held
    assert summary["retry_after_s"] and min(summary["retry_after_s"]) >= 1
    assert summary["latency_served_s"]["p95"] >= summary["latency_served_s"]["p50"] > 0
    assert "throughput" in printed and "p95" in printed
    assert live.state.work.depth == 0  # nothing left behind in the queue


def test_benchmark_refuses_addresses_beyond_loopback():
    bench = _load_benchmark()
    for url in ("http://10.0.0.1:8000", "http://example.com"):
        try:
            bench.main(["--url", url])
        except SystemExit as exit_:
            assert exit_.code == 2
        else:
            raise AssertionError(f"{url} was accepted")
