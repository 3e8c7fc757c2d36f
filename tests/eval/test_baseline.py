"""`deepasmr baseline` (the DSP TTS + WORLD cascade) end to end on the tiny synthesised corpus."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from deepasmr.cli import main
from deepasmr.data.manifest import read_manifest
from deepasmr.data.testsets import build_testset
from deepasmr.eval.baseline import LOG_NAME, BaselineConfig
from deepasmr.eval.voicing import analyze_voicing


@pytest.fixture(scope="module")
def baseline_run(tiny_corpus, tmp_path_factory):
    """Two entries of an English N2A list and one of an N2N list, synthesised without scoring."""
    rows = read_manifest(tiny_corpus)
    lists = tmp_path_factory.mktemp("lists")
    n2a = build_testset(rows, "N2A", "en")
    n2n = build_testset(rows, "N2N", "en")[:1]
    assert len(n2a) >= 2 and n2n
    for name, entries in (("EN_N2A_testset.json", n2a), ("EN_N2N_testset.json", n2n)):
        (lists / name).write_text(json.dumps(entries), encoding="utf-8")
    out = tmp_path_factory.mktemp("baseline")
    rc = main(["baseline", "--testset", str(lists / "EN_N2A_testset.json"), "--testset",
               str(lists / "EN_N2N_testset.json"), "--audio-root", str(tiny_corpus.parent), "--out", str(out),
               "--limit", "2", "--no-score"])
    assert rc == 0
    return out, n2a, n2n


def _outputs(folder):
    wavs = sorted(folder.glob("*.wav"))
    return [(path, *sf.read(str(path), dtype="float32")) for path in wavs]


def test_outputs_at_22k_with_sensible_length(baseline_run):
    out, _, _ = baseline_run
    n2a, n2n = _outputs(out / "EN_N2A"), _outputs(out / "EN_N2N")
    assert len(n2a) == 2 and len(n2n) == 1
    for _, wav, sr in n2a + n2n:
        assert sr == 22_050
        assert 0.8 < wav.size / sr < 15.0  # one sentence, trimmed
        assert abs(wav).max() <= 1.0 and abs(wav).max() > 0.01


def test_asmr_is_unvoiced_and_normal_is_voiced(baseline_run):
    out, _, _ = baseline_run
    for path, wav, sr in _outputs(out / "EN_N2A"):
        assert analyze_voicing(wav, sr).r_uv >= 0.8, path
    [(path, wav, sr)] = _outputs(out / "EN_N2N")
    assert analyze_voicing(wav, sr).r_uv <= 0.5, path


def test_log_records_a_grid_warp_per_entry(baseline_run):
    out, n2a, n2n = baseline_run
    grid = BaselineConfig().warps
    for task, entries in (("EN_N2A", n2a), ("EN_N2N", n2n)):
        log = json.loads((out / task / LOG_NAME).read_text(encoding="utf-8"))
        assert log["written"] == len(log["entries"]) and not log["failed"]
        assert log["voice"] == "flite:rms" and log["sample_rate"] == 22_050
        for key, record in log["entries"].items():
            assert (out / task / f"{key}.wav").is_file()
            assert record["warp"] in grid
            sims = {float(w): s for w, s in record["sim_by_warp"].items()}
            assert set(sims) == set(grid) and sims[record["warp"]] == max(sims.values())
        keys = {str(e["key"]) for e in entries}
        assert set(log["entries"]) <= keys
    n2n_record = next(iter(json.loads((out / "EN_N2N" / LOG_NAME).read_text())["entries"].values()))
    assert n2n_record["prompt_f0_hz"] and n2n_record["pitch"] != 1.0  # normal output follows the prompt's F0
