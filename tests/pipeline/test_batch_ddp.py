"""`deepasmr speak --batch` as a real 2-process gloo DDP job on CPU (Lightning's predict loop): every line is
handled by exactly one rank and written exactly once; the bad line is a manifest error, not a crash.

The default test starts both ranks at once with torchrun; the slow one lets Lightning launch its own second
process (`--devices 2` alone, the everyday command), which starts the ranks one after the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from deepasmr.pipeline.batch import LOG_DIR, MANIFEST

LINES = ["Hi there.", "Good night.", "こんにちは", "Soft rain."]
BAD_LINE = 3


def _run(cmd, port: int):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1", "MASTER_PORT": str(port)}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=400)


def _check_exactly_once(out, res):
    assert res.returncode == 1, res.stderr[-3000:]  # 1: the batch finished, with one failed line
    rows = [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]
    assert [r["line"] for r in rows] == list(range(1, len(LINES) + 1))
    assert [r["status"] for r in rows] == ["error" if n == BAD_LINE else "ok" for n in range(1, len(LINES) + 1)]
    assert "unsupported script" in rows[BAD_LINE - 1]["error"]
    logged = [json.loads(line) for log in sorted((out / LOG_DIR).glob("rank*.jsonl"))
              for line in log.read_text().splitlines()]
    written = Counter(r["line"] for r in logged if r["status"] == "ok")
    assert written == Counter(n for n in range(1, len(LINES) + 1) if n != BAD_LINE)  # each exactly once
    # Line k (k-th non-blank line, from 0) belongs to rank k mod 2: both processes worked, on disjoint lines.
    assert {r["line"]: r["rank"] for r in logged} == {n: (n - 1) % 2 for n in range(1, len(LINES) + 1)}
    assert len({r["pid"] for r in logged}) == 2
    assert sorted(p.name for p in out.glob("*.wav")) == sorted(r["output"] for r in rows if r["status"] == "ok")
    summary = json.loads(res.stdout[res.stdout.index("{"):])
    assert summary["processes"] == 2 and summary["written"] == len(LINES) - 1 and summary["errors"] == 1


def _args(tmp_path, bundle_dir, voice_clip):
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    return out, ["speak", "--batch", str(lines), "--out-dir", str(out), "--voice", str(voice_clip),
                 "--prompt-style", "normal", "--steps", "2", "--seed", "5", "--model", str(bundle_dir),
                 "--devices", "2", "--no-progress"]


def test_two_torchrun_processes_write_each_line_once(tmp_path, bundle_dir, voice_clip):
    out, args = _args(tmp_path, bundle_dir, voice_clip)
    port = 30500 + os.getpid() % 1000
    res = _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
                "-m", "deepasmr", *args], port)
    _check_exactly_once(out, res)


@pytest.mark.slow
def test_lightning_launches_the_second_process_itself(tmp_path, bundle_dir, voice_clip):
    out, args = _args(tmp_path, bundle_dir, voice_clip)
    port = 31500 + os.getpid() % 1000
    _check_exactly_once(out, _run([sys.executable, "-m", "deepasmr", *args], port))
