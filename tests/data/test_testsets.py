"""Paper-format test sets from the tiny corpus."""

import json

import pytest

from deepasmr.data.testsets import TASKS, TESTSET_KEYS, write_testsets
from deepasmr.errors import DataError


@pytest.fixture(scope="module")
def testsets(tiny_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("testsets")
    written = write_testsets(tiny_corpus.parent, out, split="test")
    return tiny_corpus, out, written


def test_one_file_per_language_and_task(testsets):
    _, out, written = testsets
    names = sorted(p.name for p in written)
    assert names == sorted(f"{lang}_{task}_testset.json" for lang in ("EN", "ZH") for task in TASKS)
    assert all(count > 0 for count in written.values())


def test_entries_follow_the_paper_format(testsets):
    manifest, out, _ = testsets
    rows = {r["path"]: r for r in map(json.loads, manifest.read_text(encoding="utf-8").splitlines())}
    for task, (prompt_style, target_style) in TASKS.items():
        entries = json.loads((out / f"EN_{task}_testset.json").read_text(encoding="utf-8"))
        assert [e["key"] for e in entries] == [str(i) for i in range(len(entries))]
        for e in entries:
            assert tuple(e) == TESTSET_KEYS
            prompt, target = rows[e["prompt_audio"]], rows[e["ground_truth"]]
            assert (manifest.parent / e["prompt_audio"]).is_file()
            assert prompt["speaker"] == target["speaker"] and prompt["split"] == "test"
            assert (prompt["style"], target["style"]) == (prompt_style, target_style)
            assert e["transcription"] == target["text"] != e["prompt_transcription"] == prompt["text"]


def test_missing_split_is_a_data_error(tiny_corpus, tmp_path):
    with pytest.raises(DataError, match="no utterances"):
        write_testsets(tiny_corpus, tmp_path, split="nonexistent")


def test_sentences_another_corpus_trained_on_are_left_out(tiny_corpus, tmp_path):
    from deepasmr.data.testsets import train_texts

    rows = [json.loads(line) for line in tiny_corpus.read_text(encoding="utf-8").splitlines()]
    assert train_texts(tiny_corpus) == {r["text"] for r in rows if r["split"] == "train"}
    # As if another corpus had trained on two of this one's test sentences.
    seen = set(sorted({r["text"] for r in rows if r["split"] == "test" and r["language"] == "en"})[:2])
    full = write_testsets(tiny_corpus, tmp_path / "full")
    kept = write_testsets(tiny_corpus, tmp_path / "fresh", exclude_texts=seen)
    assert sum(kept.values()) < sum(full.values())
    for path in kept:
        for e in json.loads(path.read_text(encoding="utf-8")):
            assert e["transcription"] not in seen and e["prompt_transcription"] not in seen
