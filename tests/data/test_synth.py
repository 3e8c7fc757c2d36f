"""`data synth` on the tiny corpus: manifest schema, audio format, speaker splits, determinism, resume."""

import dataclasses
import json
from pathlib import Path

import pytest
import soundfile as sf

from deepasmr.data.manifest import MANIFEST_KEYS, read_manifest
from deepasmr.data.plan import SynthConfig
from deepasmr.data.synth import rebuild_manifest, run_synth
from deepasmr.data.tiny import TINY_SPEAKERS
from deepasmr.errors import DataError

ONE_SPEAKER = SynthConfig(speakers=("en-es-usm1-p119r113w110",), utts_per_speaker=4, jobs=1, seed=5)


def _rows(manifest: Path) -> list[dict]:
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]


def test_manifest_rows_have_exactly_the_keys(tiny_corpus):
    rows = _rows(tiny_corpus)
    assert len(rows) == len(TINY_SPEAKERS) * 6
    assert all(tuple(r) == MANIFEST_KEYS for r in rows)
    read_manifest(tiny_corpus)  # every row validates
    assert {r["language"] for r in rows} == {"en", "zh"}
    assert {r["style"] for r in rows} == {"normal", "asmr"}
    assert all(r["phonemes"] and r["duration"] > 0.3 for r in rows)
    assert {r["source_voice"].split(":")[0] for r in rows} == {"espeak", "flite", "festival"}


def test_audio_is_22k_mono_pcm16_with_the_manifest_duration(tiny_corpus):
    for row in _rows(tiny_corpus):
        info = sf.info(str(tiny_corpus.parent / row["path"]))
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert abs(info.frames / info.samplerate - row["duration"]) < 0.002


def test_splits_are_speaker_disjoint_and_saved(tiny_corpus):
    rows = _rows(tiny_corpus)
    splits = json.loads((tiny_corpus.parent / "splits.json").read_text())
    speakers_in = {s: {r["speaker"] for r in rows if r["split"] == s} for s in ("train", "dev", "test")}
    assert speakers_in["test"] and speakers_in["train"]
    assert not speakers_in["test"] & speakers_in["train"] and not speakers_in["dev"] & speakers_in["train"]
    assert all(splits[r["speaker"]] == r["split"] for r in rows)


def test_every_speaker_has_both_styles_on_shared_and_distinct_sentences(tiny_corpus):
    rows = _rows(tiny_corpus)
    for spk in TINY_SPEAKERS:
        normal = {r["text"] for r in rows if r["speaker"] == spk and r["style"] == "normal"}
        asmr = {r["text"] for r in rows if r["speaker"] == spk and r["style"] == "asmr"}
        assert len(normal & asmr) == 2 and normal - asmr and asmr - normal


def test_same_seed_same_bytes(tmp_path):
    a = run_synth(tmp_path / "a", ONE_SPEAKER, progress=False)
    b = run_synth(tmp_path / "b", ONE_SPEAKER, progress=False)
    assert a.read_bytes() == b.read_bytes()
    for row in _rows(a):
        assert (a.parent / row["path"]).read_bytes() == (b.parent / row["path"]).read_bytes()


def test_rerun_resumes_and_manifest_rebuilds_from_parts(tmp_path):
    manifest = run_synth(tmp_path, ONE_SPEAKER, progress=False)
    original = manifest.read_bytes()
    rows = _rows(manifest)
    keep, lost = tmp_path / rows[0]["path"], tmp_path / rows[1]["path"]
    kept_mtime = keep.stat().st_mtime_ns
    lost.unlink()
    (tmp_path / "parts" / f"{rows[0]['speaker']}.jsonl").unlink()  # as if killed mid-speaker
    manifest.unlink()
    assert run_synth(tmp_path, ONE_SPEAKER, progress=False).read_bytes() == original
    assert keep.stat().st_mtime_ns == kept_mtime, "finished audio is not rendered again"
    assert lost.is_file()
    manifest.unlink()
    assert rebuild_manifest(tmp_path).read_bytes() == original


def test_resuming_a_different_plan_is_refused(tmp_path):
    run_synth(tmp_path, ONE_SPEAKER, progress=False)
    with pytest.raises(DataError, match="different plan"):
        run_synth(tmp_path, dataclasses.replace(ONE_SPEAKER, seed=6), progress=False)
