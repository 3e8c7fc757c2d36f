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
    (own / f"{entries[1]['key']}.wav").unlink()
    (stranger / f"{entries[1]['key']}.wav").unlink()  # made by neither: counted, not listed as skipped
    fewer = paired_sim(str(testset), str(root), str(own), str(stranger))
    assert fewer["n"] == len(entries) - 2 and list(fewer["skipped"]) == [entries[0]["key"]]
    assert fewer["n_absent_from_both"] == 1 and report["n_absent_from_both"] == 0


def test_nothing_to_compare_is_a_clear_error(tiny_corpus, tmp_path, capsys):
    rows = [json.loads(line) for line in tiny_corpus.read_text(encoding="utf-8").splitlines()]
    testset = tmp_path / "t.json"
    testset.write_text(json.dumps(build_testset(rows, "N2A", "en")), encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["--testset", str(testset), "--audio-root", str(tiny_corpus.parent), "--a", str(tmp_path / "no"),
              "--b", str(tmp_path / "no")])
    assert stop.value.code == 2 and "no entry" in capsys.readouterr().err


def _report(path, task, transcripts, references, sims=None):
    """An eval.json of one task whose utterances were scored by the real word counter (deepasmr.eval.asr), with
    SIM to the ground truth when `sims` gives it per utterance."""
    from deepasmr.eval.asr import utterance_errors

    utterances = [{"key": str(k), "generated_metrics": utterance_errors(ref, hyp, "en")}
                  for k, (ref, hyp) in enumerate(zip(references, transcripts, strict=True))]
    for utterance, sim in zip(utterances, sims or [], strict=False):
        utterance["generated_metrics"]["sim_to_ground_truth"] = sim
    path.write_text(json.dumps([{"task": task, "unit": "word", "utterances": utterances}]), encoding="utf-8")
    return str(path)


def test_paired_errors_pool_each_systems_words_and_bound_the_gap(tmp_path):
    from deepasmr.eval.paired import paired_errors

    refs = ["the quiet garden was full of yellow flowers", "a small bird sang in the old tree",
            "night came softly over the hills", "close your eyes and listen to the rain"] * 3
    clean = _report(tmp_path / "a.json", "EN_N2A", refs, refs)
    garbled = [r.replace("the", "a").replace("flowers", "flour") for r in refs]
    worse = _report(tmp_path / "b.json", "EN_N2A", garbled, refs)
    report = paired_errors(clean, worse)
    words = sum(len(r.split()) for r in refs)
    errors = sum(x != y for g, r in zip(garbled, refs, strict=True)
                 for x, y in zip(g.split(), r.split(), strict=True))  # substitutions only: same word counts
    gap = report["capped"]
    assert report["n"] == 12 and report["unit"] == "word" and "phone" not in report  # no phone reader scored
    assert gap["a"] == 0 and gap["b"] == pytest.approx(errors / words) and gap["b_minus_a"] == pytest.approx(gap["b"])
    low, high = gap["ci95"]
    assert 0 < low <= gap["b_minus_a"] <= high and gap["b_more"] == 1.0 and gap["b_fewer"] == 0.0
    same = paired_errors(worse, worse)["capped"]
    assert same["b_minus_a"] == 0 and same["ci95"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="has no task ZH_N2A"):
        paired_errors(clean, worse, task="ZH_N2A")
    (tmp_path / "other.json").write_text(json.dumps({"task": "EN_N2A"}), encoding="utf-8")
    with pytest.raises(ValueError, match="is not an eval.json report"):
        paired_errors(clean, str(tmp_path / "other.json"))


def test_paired_reports_pool_each_sides_seeds(tmp_path):
    """A side given a report per seed: an entry's errors add up over its seeds and its SIM is their mean. A at two
    seeds (one clean, one garbled) against B garbled at one: A's rate is half of B's, and B's SIM gap is the
    seeds' mean gap."""
    from deepasmr.eval.paired import paired_errors

    refs = ["the quiet garden was full of yellow flowers", "a small bird sang in the old tree"] * 4
    garbled = [r.replace("the", "a") for r in refs]
    clean = _report(tmp_path / "a0.json", "EN_N2A", refs, refs, sims=[0.9] * 8)
    worse = _report(tmp_path / "a1.json", "EN_N2A", garbled, refs, sims=[0.7] * 8)
    b = _report(tmp_path / "b.json", "EN_N2A", garbled, refs, sims=[0.75] * 8)
    report = paired_errors([clean, worse], b)
    gap = report["capped"]
    assert report["n"] == 8 and report["a"] == [clean, worse] and gap["b"] > 0
    assert gap["a"] == pytest.approx(gap["b"] / 2) and gap["b_minus_a"] == pytest.approx(gap["b"] / 2)
    assert report["sim"]["a"] == pytest.approx(0.8) and report["sim"]["b_minus_a"] == pytest.approx(-0.05)
    assert report["sim"]["ci95"] == pytest.approx([-0.05, -0.05]) and report["sim"]["b_higher"] == 0.0
    assert "sim" not in paired_errors(_report(tmp_path / "nosim.json", "EN_N2A", refs, refs), b)


def test_paired_errors_from_the_command_line(tmp_path, capsys):
    refs = ["the little boat drifted slowly across the lake"] * 4
    a = _report(tmp_path / "a.json", "EN_N2N", refs, refs)
    assert main(["--eval-a", a, "--eval-b", a]) == 0
    assert json.loads(capsys.readouterr().out)["capped"]["b_minus_a"] == 0
    assert main(["--eval-a", a, a, "--eval-b", a]) == 0  # a report per seed
    assert json.loads(capsys.readouterr().out)["a"] == [a, a]
    with pytest.raises(SystemExit) as stop:
        main(["--eval-a", a])  # half of a pair
    assert stop.value.code == 2 and "give either" in capsys.readouterr().err
