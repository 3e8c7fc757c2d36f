"""The tokenizer's CTC head as a phone reader (deepasmr.eval.phones) on the tiny corpus's real speech: it reads
each clip's own words far better than another clip's, in both styles and both languages."""

import json
from pathlib import Path

import pytest

from deepasmr.eval.phones import PhoneReader, phone_error_rate, phone_errors

TINY = Path(__file__).resolve().parents[2] / "models" / "tiny"


@pytest.fixture(scope="module")
def reader():
    if not (TINY / "tokenizer.safetensors").is_file():
        pytest.skip("models/tiny has no trained tokenizer")
    return PhoneReader(TINY)


def test_reads_the_words_of_its_own_clip(reader, tiny_corpus):
    rows = [json.loads(line) for line in tiny_corpus.read_text().splitlines()]
    own, other = [], []
    for i, row in enumerate(rows):
        heard = reader.phones_of_file(tiny_corpus.parent / row["path"])
        own.append(phone_errors(heard, reader.reference(row["text"], row["language"])))
        others = rows[i + 1 :] + rows[:i]
        wrong = next(r for r in others if r["language"] == row["language"] and r["text"] != row["text"])
        other.append(phone_errors(heard, reader.reference(wrong["text"], wrong["language"])))
    print(f"\nPER own text {phone_error_rate(own):.3f}, another clip's text {phone_error_rate(other):.3f}")
    assert phone_error_rate(own) < 0.5 < 0.8 < phone_error_rate(other)
    assert phone_error_rate([]) is None


def test_eval_reports_the_phone_error_rate_beside_the_ground_truth(reader, tiny_corpus, tmp_path, capsys):
    import shutil

    from deepasmr.cli import main
    from deepasmr.data.testsets import write_testsets

    write_testsets(tiny_corpus, tmp_path / "sets")
    testset = tmp_path / "sets" / "EN_N2N_testset.json"
    generated = tmp_path / "generated"
    generated.mkdir()
    for entry in json.loads(testset.read_text()):  # the ground truth as the system's output
        shutil.copy(tiny_corpus.parent / entry["ground_truth"], generated / f"{entry['key']}.wav")
    out = tmp_path / "report"
    assert main(["eval", "--testset", str(testset), "--audio-root", str(tiny_corpus.parent), "--generated",
                 str(generated), "--out", str(out), "--per-tokenizer", str(TINY), "--workers", "1"]) == 0
    assert "PER (tokenizer)" in capsys.readouterr().out
    systems = json.loads((out / "eval.json").read_text())[0]["systems"]
    assert systems["generated"]["phone_error_rate"] == systems["ground_truth"]["phone_error_rate"] < 0.5
