"""Batch synthesis in one process (Lightning's predict loop, the real tiny bundle): one file per line, bad lines
as manifest errors, resume without rewriting. The 2-process DDP run is in test_batch_ddp.py."""

from __future__ import annotations

import json

import pytest

import deepasmr.cli
from deepasmr.pipeline.batch import LOG_DIR, MANIFEST, BatchJob, plan, read_lines, run_batch, shard

GOOD = ["Hi there.", "Good night.", "Soft rain."]
LONG = "a" * 10_000


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _log_rows(out_dir):
    return [json.loads(line) for log in sorted((out_dir / LOG_DIR).glob("rank*.jsonl"))
            for line in log.read_text().splitlines()]


def _manifest(out_dir):
    return [json.loads(line) for line in (out_dir / MANIFEST).read_text().splitlines()]


def test_batch_writes_each_line_once_records_bad_lines_and_resumes(engine, voice_clip, tmp_path):
    lines = _write_lines(tmp_path / "lines.txt", [GOOD[0], "", GOOD[1], "こんにちは", LONG, GOOD[2]])
    out = tmp_path / "out"
    job = BatchJob(voice=str(voice_clip), style="asmr", seed=3, steps=2)

    first = run_batch(lines, out, job, engine=engine, progress=False)
    assert (first["lines"], first["written"], first["reused"], first["errors"]) == (5, 3, 0, 2)
    rows = _manifest(out)
    assert [r["line"] for r in rows] == [1, 3, 4, 5, 6]  # file order, blank line 2 skipped
    ok = [r for r in rows if r["status"] == "ok"]
    assert [r["text"] for r in ok] == GOOD
    assert all((out / r["output"]).is_file() and r["task"] == "N2A" and not r["reused"] for r in ok)
    bad = {r["line"]: r for r in rows if r["status"] == "error"}
    assert "unsupported script" in bad[4]["error"] and bad[4]["error_type"] == "TextError"
    assert "10000 characters" in bad[5]["error"]
    assert sorted(p.name for p in out.glob("*.wav")) == sorted(r["output"] for r in ok)
    assert not list(out.glob(".*.wav*"))  # no temp files left behind

    second = run_batch(lines, out, job, engine=engine, progress=False)
    assert (second["written"], second["reused"], second["errors"]) == (0, 3, 2)
    assert all(r["reused"] for r in _manifest(out) if r["status"] == "ok")

    (out / ok[1]["output"]).unlink()  # a lost output is made again, and only it
    third = run_batch(lines, out, job, engine=engine, progress=False)
    assert (third["written"], third["reused"]) == (1, 2)
    written = [r["line"] for r in _log_rows(out) if r["status"] == "ok"]
    assert sorted(written) == [1, 3, 3, 6]  # line 3 twice (deleted in between), every other line once


def test_plan_names_follow_the_text_and_settings():
    job = BatchJob(voice="v.wav", seed=1)
    a = plan([(1, "Hello."), (2, "Hello.")], job, "sha", "/m")
    assert a[0]["stem"].startswith("00001-") and a[1]["stem"].startswith("00002-")
    assert a[0]["stem"][6:] != a[1]["stem"][6:]  # seed + line number differs
    assert plan([(1, "Hello.")], job, "sha", "/m")[0] == a[0]  # stable
    for other in (plan([(1, "Hello!")], job, "sha", "/m"), plan([(1, "Hello.")], job, "sha2", "/m"),
                  plan([(1, "Hello.")], BatchJob(voice="v.wav", seed=1, style="normal"), "sha", "/m")):
        assert other[0]["stem"] != a[0]["stem"]


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_shards_are_disjoint_and_complete(world):
    items = list(range(11))
    parts = [shard(items, r, world) for r in range(world)]
    assert sorted(i for p in parts for i in p) == items
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_read_lines_skips_blanks_and_keeps_numbers(tmp_path):
    path = tmp_path / "l.txt"
    path.write_bytes("\ufeffOne.\n\n  \n  Two.  \r\nThree.".encode())
    assert read_lines(path) == [(1, "One."), (4, "Two."), (5, "Three.")]


@pytest.mark.parametrize("argv", [["Some text.", "--batch", "LINES", "--out-dir", "D"], ["--batch", "LINES"],
                                  ["--batch", "LINES", "--out-dir", "D", "-o", "x.wav"]])
def test_cli_batch_argument_errors(argv, voice_clip, tmp_path, capsys):
    lines = _write_lines(tmp_path / "lines.txt", GOOD)
    argv = [str(lines) if a == "LINES" else str(tmp_path / "d") if a == "D" else a for a in argv]
    assert deepasmr.cli.main(["speak", *argv, "--voice", str(voice_clip)]) == 2
    assert "deepasmr: error:" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
