"""Paired SIM comparison on the tiny corpus: real whispers (A) against another speaker's whisper for every
entry (B) must come out clearly worse for B, with an interval that excludes zero; a system against itself ties."""

from __future__ import annotations

import json
import shutil

import pytest

from deepasmr.data.testsets import build_testset
from deepasmr.eval.paired import main, paired_sim


def test_paired_sim_tells_the_own_speaker_from_a_stranger(tiny_corpus, tmp_path):
    root = tiny_corpus.parent
    rows = [json.loads(line) for line in tiny_corpus.read_text(encoding="utf-8").splitlines()]
    entries = build_testset(rows, "N2A", "en")
    testset = tmp_path / "EN_N2A_testset.json"
    testset.write_text(json.dumps(entries), encoding="utf-8")
    own, stranger = tmp_path / "own", tmp_path / "stranger"
    own.mkdir()
    stranger.mkdir()
    speaker_of = {e["key"]: e["ground_truth"].split("/")[-2] for e in entries}
    for entry in entries:
        shutil.copy(root / entry["ground_truth"], own / f"{entry['key']}.wav")
        other = next(e for e in entries if speaker_of[e["key"]] != speaker_of[entry["key"]])
        shutil.copy(root / other["ground_truth"], stranger / f"{entry['key']}.wav")
    (stranger / f"{entries[0]['key']}.wav").unlink()  # B missed one entry: compared on the rest

    report = paired_sim(str(testset), str(root), str(own), str(stranger))
    assert report["n"] == len(entries) - 1 and list(report["skipped"]) == [entries[0]["key"]]
    assert report["sim_a"] > 0.99 and report["mean_b_minus_a"] < -0.1
    low, high = report["ci95"]
    assert low <= report["mean_b_minus_a"] <= high < 0 and report["b_wins"] == 0.0
    same = paired_sim(str(testset), str(root), str(own), str(own))
    assert same["mean_b_minus_a"] == 0.0 and same["ci95"] == [0.0, 0.0]


def test_nothing_to_compare_is_a_clear_error(tiny_corpus, tmp_path, capsys):
    rows = [json.loads(line) for line in tiny_corpus.read_text(encoding="utf-8").splitlines()]
    testset = tmp_path / "t.json"
    testset.write_text(json.dumps(build_testset(rows, "N2A", "en")), encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["--testset", str(testset), "--audio-root", str(tiny_corpus.parent), "--a", str(tmp_path / "no"),
              "--b", str(tmp_path / "no")])
    assert stop.value.code == 2 and "no entry" in capsys.readouterr().err
