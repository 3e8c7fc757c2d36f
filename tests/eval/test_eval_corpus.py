"""`deepasmr eval-corpus` on a tiny manifest of real synthesised speech (ASR skipped: covered elsewhere)."""

from __future__ import annotations

import json

import pytest
from eval_synth import SENTENCES

from deepasmr.cli import main
from deepasmr.errors import DataError
from deepasmr.eval.corpus import read_rows


@pytest.fixture(scope="module")
def manifest(clips, tmp_path_factory):
    rows = [
        ("slt", "normal", "slt_a", "a"),
        ("slt", "normal", "slt_b", "b"),
        ("slt", "asmr", "slt_a_pseudo_whisper", "a"),
        ("awb", "normal", "awb_a", "a"),
        ("awb", "normal", "awb_c", "c"),
        ("esp", "asmr", "espeak_whisper", "a"),
    ]
    path = tmp_path_factory.mktemp("manifest") / "manifest.jsonl"
    lines = [
        {
            "id": f"{spk}_{i}",
            "path": str(clips[clip]),
            "text": SENTENCES[s],
            "language": "en",
            "speaker": spk,
            "style": style,
            "source_voice": f"flite:{spk}",
            "split": "test",
        }
        for i, (spk, style, clip, s) in enumerate(rows)
    ]
    lines.append({**lines[0], "id": "train_row", "split": "train"})
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def test_eval_corpus(manifest, tmp_path, capsys):
    assert main(["eval-corpus", "--manifest", str(manifest), "--no-asr", "--out", str(tmp_path), "--workers", "1"]) == 0
    assert "## Global R_UV" in capsys.readouterr().out
    result = json.loads((tmp_path / "corpus_eval.json").read_text())
    assert result["n_rows"] == 6 and not result["failures"]
    voicing = result["voicing"]["by_language_style"]
    assert voicing["en/normal"]["r_uv_global"] < 0.5 and voicing["en/asmr"]["r_uv_global"] > 0.85
    ident = result["speaker_id"]
    assert ident["all"]["n_speakers"] == 2 and ident["all"]["share_wins"] == 1.0


def test_manifest_errors(tmp_path):
    bad = tmp_path / "m.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(DataError, match="lacks"):
        read_rows(bad, "test")
    bad.write_text("nope\n")
    with pytest.raises(DataError, match="not JSON"):
        read_rows(bad, "test")
    with pytest.raises(DataError, match="no such"):
        read_rows(tmp_path / "missing.jsonl", "test")
