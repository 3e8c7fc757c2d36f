"""`deepasmr analyze` and `deepasmr eval` end to end on real synthesised speech."""

from __future__ import annotations

import json
import shutil

import pytest
from eval_synth import SENTENCES

from deepasmr.cli import main
from deepasmr.errors import DataError
from deepasmr.eval.testset import EvalConfig, evaluate_testset, load_testset, task_name

ANALYZE_KEYS = {
    "path",
    "duration_s",
    "r_uv",
    "style",
    "n_active",
    "n_unvoiced",
    "f0_median_hz",
    "rms_dbfs",
    "active_rms_dbfs",
    "peak_dbfs",
}


def test_analyze_json_and_plot(clips, tmp_path, capsys):
    rc = main(
        ["analyze", "--json", "--plot", str(tmp_path / "plots"), str(clips["espeak_whisper"]), str(clips["slt_a"])]
    )
    assert rc == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and set(rows[0]) >= ANALYZE_KEYS
    assert rows[0]["style"] == "asmr" and rows[1]["style"] == "normal"
    assert (tmp_path / "plots" / "espeak_whisper.png").stat().st_size > 0


def test_analyze_bad_files_continue(clips, tmp_path, capsys):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    silent = tmp_path / "silent.wav"
    import numpy as np
    import soundfile as sf

    sf.write(silent, np.zeros(16_000, dtype=np.float32), 16_000)
    rc = main(["analyze", str(junk), str(clips["slt_b"]), str(tmp_path / "missing.wav"), str(silent)])
    out = capsys.readouterr()
    assert rc != 0
    assert "slt_b.wav" in out.out and "normal" in out.out
    assert out.err.count("error") == 3 and "junk.wav" in out.err and "silent" in out.err


@pytest.fixture(scope="module")
def testset(clips, tmp_path_factory):
    """A 2-entry N2A-style set over flite clips; the 'generated' folder holds copies of the ground truth,
    plus a third entry whose generated file is missing."""
    root = tmp_path_factory.mktemp("corpus")
    gen = tmp_path_factory.mktemp("generated")
    entries = []
    for key, (gt, prompt, text) in enumerate(
        [("slt_a", "slt_b", "a"), ("slt_b", "slt_a", "b"), ("awb_c", "slt_a", "c")]
    ):
        for name in (gt, prompt):
            shutil.copy(clips[name], root / f"{name}.wav")
        entries.append(
            {
                "key": str(key),
                "transcription": SENTENCES[text],
                "prompt_transcription": "x",
                "prompt_audio": f"{prompt}.wav",
                "ground_truth": f"{gt}.wav",
            }
        )
        if key < 2:
            shutil.copy(clips[gt], gen / f"{key}.wav")
    path = root / "Synth_N2A_testset.json"
    path.write_text(json.dumps(entries))
    return path, root, gen


def test_ground_truth_as_generated_gives_identical_metrics(testset, tiny_en):
    path, root, gen = testset
    result = evaluate_testset(path, root, gen, EvalConfig(workers=1), backend=tiny_en)
    assert result["task"] == "N2A"
    assert (result["n_evaluated"], result["n_missing"], result["missing_keys"]) == (2, 1, ["2"])
    g, t = result["systems"]["generated"], result["systems"]["ground_truth"]
    for key in ("r_uv_global", "r_uv_mean", "sim_to_prompt", "error_rate", "error_rate_capped", "n_active_frames"):
        assert g[key] == pytest.approx(t[key], abs=1e-6), key
    assert g["sim_to_ground_truth"] == pytest.approx(1.0, abs=1e-5)
    assert g["r_uv_global"] < 0.5


def test_eval_cli_writes_reports(testset, tmp_path, capsys):
    path, root, gen = testset
    out = tmp_path / "report"
    rc = main(
        [
            "eval",
            "--testset",
            str(path),
            "--audio-root",
            str(root),
            "--generated",
            str(gen),
            "--out",
            str(out),
            "--workers",
            "2",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| N2A | generated | 2 |" in printed and "| N2A | ground truth | 2 |" in printed
    assert "1 generated files missing" in printed
    data = json.loads((out / "eval.json").read_text())
    assert data[0]["n_missing"] == 1 and len(data[0]["utterances"]) == 2
    assert (out / "eval.png").stat().st_size > 0 and (out / "eval.md").read_text() in printed


def test_bad_testsets(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"key": "0"}]')
    with pytest.raises(DataError, match="lacks"):
        load_testset(bad)
    bad.write_text("{not json")
    with pytest.raises(DataError):
        load_testset(bad)
    with pytest.raises(DataError):
        load_testset(tmp_path / "nope.json")
    assert main(["eval", "--testset", str(bad), "--audio-root", ".", "--generated", "."]) == 2
    assert task_name("CHAINs_A2N_testset.json") == "A2N" and task_name("mine.json") == "mine"


def test_pitch_off_share_sees_a_shifted_voice(testset, tiny_en, tmp_path):
    """R_UV is blind to a rendering voiced at the wrong pitch; pitch_off_gt is not."""
    import librosa
    import soundfile as sf

    path, root, gen = testset
    same = evaluate_testset(path, root, gen, EvalConfig(workers=1), backend=tiny_en)["systems"]["generated"]
    shifted_dir = tmp_path / "shifted"
    shifted_dir.mkdir()
    for wav in gen.glob("*.wav"):
        audio, sr = sf.read(wav)
        sf.write(shifted_dir / wav.name, librosa.effects.pitch_shift(audio, sr=sr, n_steps=5), sr)
    shifted = evaluate_testset(path, root, shifted_dir, EvalConfig(workers=1), backend=tiny_en)["systems"]
    assert same["pitch_off_gt"] == 0.0 and shifted["generated"]["pitch_off_gt"] == 1.0
    assert shifted["generated"]["r_uv_global"] < 0.5 and shifted["ground_truth"]["pitch_off_gt"] is None
