"""`deepasmr eval-model` on the tiny test bundle and the tiny corpus's paper-format test set: it resumes its own
run, and refuses to mix in (or with --force replaces) outputs another run left in the folder."""

import json

import pytest

from deepasmr.cli import main
from deepasmr.data.testsets import write_testsets


@pytest.fixture(scope="module")
def n2a_testset(tiny_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("testsets")
    write_testsets(tiny_corpus, out)
    return out / "EN_N2A_testset.json"


def _run(testset, corpus, bundle, out, *extra) -> int:
    return main(["eval-model", "--testset", str(testset), "--audio-root", str(corpus.parent), "--out", str(out),
                 "--model", str(bundle), "--limit", "2", "--no-score", *extra])


def test_eval_model_resumes_its_run_and_guards_against_another(n2a_testset, tiny_corpus, bundle_dir, tmp_path,
                                                               capsys):
    out = tmp_path / "run"
    assert _run(n2a_testset, tiny_corpus, bundle_dir, out) == 0
    task_dir = out / "EN_N2A"
    wavs = sorted(task_dir.glob("*.wav"))
    assert len(wavs) == 2
    first = {w.name: w.stat().st_mtime_ns for w in wavs}

    assert _run(n2a_testset, tiny_corpus, bundle_dir, out) == 0  # same run: nothing regenerated
    assert json.loads((out / "synthesis_logs.json").read_text())[0]["skipped"] == 2
    assert {w.name: w.stat().st_mtime_ns for w in task_dir.glob("*.wav")} == first

    assert _run(n2a_testset, tiny_corpus, bundle_dir, out, "--seed", "1") == 2  # another run: a clear error
    err = capsys.readouterr().err
    assert "outputs of another run (run differ)" in err and "--force" in err
    assert {w.name: w.stat().st_mtime_ns for w in task_dir.glob("*.wav")} == first

    assert _run(n2a_testset, tiny_corpus, bundle_dir, out, "--seed", "1", "--force") == 0
    assert json.loads((out / "synthesis_logs.json").read_text())[0]["written"] == 2
    assert json.loads((task_dir / "run.json").read_text())["run"]["seed"] == 1


def test_a_bundle_with_another_vocoder_is_another_run(n2a_testset, tiny_corpus, bundle_dir, tmp_path, capsys):
    import shutil

    out = tmp_path / "run"
    assert _run(n2a_testset, tiny_corpus, bundle_dir, out) == 0
    other = shutil.copytree(bundle_dir, tmp_path / "other_vocoder")
    record = json.loads((other / "bundle.json").read_text()) if (other / "bundle.json").is_file() else {}
    (other / "bundle.json").write_text(json.dumps({**record, "vocoder": {"kind": "griffinlim"}}))
    assert _run(n2a_testset, tiny_corpus, other, out) == 2
    assert "outputs of another run (vocoder differ)" in capsys.readouterr().err


def test_bundle_record_says_how_its_figures_were_made(n2a_testset, tiny_corpus, bundle_dir, tmp_path):
    """scripts/write_bundle_record.py --metrics copies eval-model's recorded settings (seed, steps, LM sampling)
    beside the figures, so a bundle's metrics can be reproduced."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "run"
    assert _run(n2a_testset, tiny_corpus, bundle_dir, out, "--seed", "3", "--temperature", "0.5") == 0
    results = [{"task": "EN_N2A", "generated_dir": str(out / "EN_N2A"), "systems": {"generated": {"r_uv_global": 0.9}}}]
    (out / "eval.json").write_text(json.dumps(results))
    bundle = shutil.copytree(bundle_dir, tmp_path / "bundle")
    repo = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, str(repo / "scripts/write_bundle_record.py"), "--bundle", str(bundle),
                    "--corpus", str(tiny_corpus), "--metrics", str(out / "eval.json")], check=True, cwd=repo)
    record = json.loads((bundle / "bundle.json").read_text())
    assert record["metrics"]["EN_N2A"]["generated"]["r_uv_global"] == 0.9
    assert record["metrics_settings"]["run"]["seed"] == 3
    assert record["metrics_settings"]["lm_sampling"]["temperature"] == 0.5
    assert "model" not in record["metrics_settings"]
    # Another language's run at the same settings joins the record; a run at other settings is refused.
    other = tmp_path / "other"
    shutil.copytree(out / "EN_N2A", other / "ZH_N2A")
    zh = {**results[0], "task": "ZH_N2A", "generated_dir": str(other / "ZH_N2A")}
    (other / "eval.json").write_text(json.dumps([zh]))
    script = [sys.executable, str(repo / "scripts/write_bundle_record.py"), "--bundle", str(bundle), "--corpus",
              str(tiny_corpus), "--metrics", str(out / "eval.json"), "--metrics", str(other / "eval.json")]
    subprocess.run(script, check=True, cwd=repo)
    assert set(json.loads((bundle / "bundle.json").read_text())["metrics"]) == {"EN_N2A", "ZH_N2A"}
    run_json = other / "ZH_N2A" / "run.json"
    run_json.write_text(run_json.read_text().replace('"seed": 3', '"seed": 4'))
    refused = subprocess.run(script, cwd=repo, capture_output=True, text=True)
    assert refused.returncode != 0 and "different settings" in refused.stderr


def test_several_seeds_give_a_run_each_and_their_spread(n2a_testset, tiny_corpus, bundle_dir, tmp_path,
                                                        capsys):
    """--seed 0 1: one scored run per seed in seed<S>/, and seeds.json whose mean is the mean of those runs'
    own reports. A seed's run in the series is the run that seed gives alone."""
    import numpy as np
    import soundfile as sf

    out = tmp_path / "series"
    assert main(["eval-model", "--testset", str(n2a_testset), "--audio-root", str(tiny_corpus.parent), "--out",
                 str(out), "--model", str(bundle_dir), "--limit", "2", "--workers", "1", "--seed", "0", "1"]) == 0
    summary = json.loads((out / "seeds.json").read_text())
    reports = {s: json.loads((out / f"seed{s}" / "eval.json").read_text())[0] for s in (0, 1)}
    assert [e["task"] for e in summary] == ["EN_N2A"] and summary[0]["seeds"] == [0, 1]
    for key in ("r_uv_global", "sim_to_ground_truth", "error_rate_capped"):
        values = [reports[s]["systems"]["generated"][key] for s in (0, 1)]
        spread = summary[0]["generated"][key]
        assert spread["per_seed"] == pytest.approx(values) and spread["mean"] == pytest.approx(np.mean(values))
        assert summary[0]["ground_truth"][key] == pytest.approx(reports[0]["systems"]["ground_truth"][key])
    wavs = {s: sorted((out / f"seed{s}" / "EN_N2A").glob("*.wav")) for s in (0, 1)}
    assert len(wavs[0]) == len(wavs[1]) == 2
    assert np.abs(sf.read(wavs[0][0])[0] - sf.read(wavs[1][0])[0]).max() > 1e-2  # the seed draws anew
    assert "over seeds" in capsys.readouterr().out and (out / "seeds.png").stat().st_size > 0

    alone = tmp_path / "alone"
    assert _run(n2a_testset, tiny_corpus, bundle_dir, alone, "--seed", "1") == 0
    for wav in wavs[1]:  # the same audio up to float rounding (here at most 1 step of 16-bit PCM)
        assert np.allclose(sf.read(wav)[0], sf.read(alone / "EN_N2A" / wav.name)[0], rtol=0, atol=1e-4)
