"""Per-speaker SIM wins on the tiny corpus: real whispers stand in for a system's N2A outputs, and each one
must sit nearer its own speaker's other whispers than another speaker's (the corpus's speakers are distinct)."""

from __future__ import annotations

import json
import shutil

from deepasmr.data.testsets import build_testset
from deepasmr.eval.speaker_wins import speaker_wins


def test_real_whispers_win_for_their_own_speakers(tiny_corpus, tmp_path):
    root = tiny_corpus.parent
    rows = [json.loads(line) for line in tiny_corpus.read_text(encoding="utf-8").splitlines()]
    # Every split: the tiny corpus has too few speakers to hold several English ones in one split.
    testset = tmp_path / "EN_N2A_testset.json"
    testset.write_text(json.dumps(build_testset(rows, "N2A", "en")), encoding="utf-8")
    generated = tmp_path / "generated"
    generated.mkdir()
    for entry in json.loads(testset.read_text(encoding="utf-8")):
        shutil.copy(root / entry["ground_truth"], generated / f"{entry['key']}.wav")
    # An output too short to embed (the LM may stop early) is reported, not fatal.
    first = json.loads(testset.read_text(encoding="utf-8"))[0]["key"]
    (generated / f"{first}.wav").write_bytes((root / rows[0]["path"]).read_bytes()[:3000])
    report = speaker_wins(str(testset), str(root), str(generated))
    assert list(report["unreadable"]) == [first]
    assert report["n_speakers"] >= 2
    assert report["win_rate"] == 1.0
    for speaker, row in report["per_speaker"].items():
        assert row["best_other"] != speaker and row["sim_own"] > row["sim_best_other"]
