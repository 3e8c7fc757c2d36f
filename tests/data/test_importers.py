"""Importers write the corpus manifest from real small files, and count bad rows instead of crashing."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepasmr.data.importers import run_import
from deepasmr.data.manifest import MANIFEST_KEYS, read_manifest
from deepasmr.errors import DataError


def test_deepasmr_db_parquet_with_bad_rows(synth_wav, tmp_path):
    good = synth_wav("Slowly, softly, the rain keeps falling.", "a.wav").read_bytes()
    path_wav = synth_wav("A second calm sentence for the test.", "b.wav")
    table = pa.table({
        "transcript": ["Slowly, softly, the rain keeps falling.", "A second calm sentence for the test.",
                       None, "Corrupt audio here.", "没有音频。"],
        "speaker": ["spk1", "spk1", "spk2", "spk2", "spk3"],
        "episode": ["ep1", "ep2", "ep3", "ep4", "ep5"],
        "audio": [{"bytes": good, "path": None}, {"bytes": None, "path": str(path_wav)},
                  {"bytes": good, "path": None}, {"bytes": b"not audio at all", "path": None}, None],
    })
    shard = tmp_path / "shards" / "train-0000.parquet"
    shard.parent.mkdir()
    pq.write_table(table, shard)
    report = run_import("deepasmr-db", shard.parent, tmp_path / "out")
    assert report.imported == 2 and len(report.errors) == 3
    assert "transcript" in report.errors[0] and "not a readable audio" in report.errors[1]
    assert "no audio" in report.errors[2]
    rows = read_manifest(report.manifest)
    assert all(tuple(r) == MANIFEST_KEYS and r["style"] == "asmr" and r["phonemes"] for r in rows)
    assert (report.manifest.parent / rows[0]["path"]).is_file()
    assert "2 bad" not in report.summary() and "3 bad rows" in report.summary()


def test_paper_testset_json(synth_wav, tmp_path):
    root = tmp_path / "root"
    for rel, text in (("CHAINs/solo/irm11/irm11_s26_solo.wav", "Laugh, dance, and sing."),
                      ("CHAINs/whsp/irm11/irm11_s01_whsp.wav", "Why do we keep score?")):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(synth_wav(text, "x.wav").read_bytes())
    entries = [
        {"key": "0", "transcription": "Why do we keep score?", "prompt_transcription": "Laugh, dance, and sing.",
         "prompt_audio": "CHAINs/solo/irm11/irm11_s26_solo.wav",
         "ground_truth": "CHAINs/whsp/irm11/irm11_s01_whsp.wav"},
        {"key": "1", "transcription": "Missing file.", "prompt_transcription": "Laugh, dance, and sing.",
         "prompt_audio": "CHAINs/solo/irm11/irm11_s26_solo.wav", "ground_truth": "CHAINs/whsp/irm11/nope.wav"},
    ]
    listing = tmp_path / "CHAINs_N2A_testset.json"
    listing.write_text(json.dumps(entries))
    report = run_import("testset", listing, tmp_path / "out", audio_root=root, split="test")
    assert report.imported == 2 and len(report.errors) == 1 and "no such file" in report.errors[0]
    rows = {r["text"]: r for r in read_manifest(report.manifest)}
    assert rows["Laugh, dance, and sing."]["style"] == "normal"
    assert rows["Why do we keep score?"]["style"] == "asmr"
    assert {r["speaker"] for r in rows.values()} == {"irm11"} and {r["split"] for r in rows.values()} == {"test"}


def test_folder_with_transcripts(synth_wav, tmp_path):
    src = tmp_path / "src"
    (src / "anna").mkdir(parents=True)
    (src / "anna" / "one.wav").write_bytes(synth_wav("The first quiet line.", "1.wav").read_bytes())
    (src / "anna" / "one.txt").write_text("The first quiet line.")
    (src / "anna" / "two.wav").write_bytes(synth_wav("The second quiet line.", "2.wav").read_bytes())
    (src / "anna" / "two.lab").write_text("The second quiet line.")
    (src / "anna" / "three.wav").write_bytes(synth_wav("No transcript.", "3.wav").read_bytes())
    (src / "anna" / "empty.wav").write_bytes(b"")
    (src / "anna" / "empty.txt").write_text("Empty audio.")
    report = run_import("folder", src, tmp_path / "out", style="asmr", copy_audio=False)
    assert report.imported == 2 and len(report.errors) == 2
    rows = read_manifest(report.manifest)
    assert {r["speaker"] for r in rows} == {"anna"} and {r["style"] for r in rows} == {"asmr"}
    assert all((report.manifest.parent / r["path"]).resolve().is_file() for r in rows)


def test_jsonl_manifest_and_language_detection(synth_wav, tmp_path):
    synth_wav("Hello from the list.", "h.wav")
    synth_wav("ni3 hao3", "z.wav", voice="cmn-latn-pinyin")
    lines = [
        json.dumps({"path": "h.wav", "text": "Hello from the list.", "speaker": "s1"}),
        json.dumps({"audio": "z.wav", "transcript": "你好。", "speaker": "s2", "style": "asmr"}),
        "{not json",
        json.dumps({"path": "h.wav"}),
        json.dumps(["a", "list"]),
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    report = run_import("jsonl", src, tmp_path / "out")
    assert report.imported == 2 and len(report.errors) == 3
    langs = {r["speaker"]: r["language"] for r in read_manifest(report.manifest)}
    assert langs == {"s1": "en", "s2": "zh"}


def test_unknown_kind_and_missing_source(tmp_path):
    with pytest.raises(DataError, match="unknown import kind"):
        run_import("mp4", tmp_path, tmp_path / "out")
    with pytest.raises(DataError, match="no such file"):
        run_import("jsonl", tmp_path / "missing.jsonl", tmp_path / "out")
