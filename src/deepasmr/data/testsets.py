"""The paper's test-set lists from a corpus: `{LANG}_{TASK}_testset.json` for N2A, A2A, A2N, N2N.

Each file is a JSON array of {"key", "transcription", "prompt_transcription", "prompt_audio",
"ground_truth"} (the layout of the released CHAINs/Whisper40 lists), audio paths relative to the corpus
root (the folder of manifest.jsonl). For task X2Y and every style-Y utterance of a held-out speaker, the
prompt is a style-X utterance of the SAME speaker with a DIFFERENT sentence, picked with a seeded RNG;
the ground truth is the style-Y utterance itself, so `transcription` is its text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from deepasmr.data.manifest import read_manifest, write_text_atomic
from deepasmr.errors import DataError

# Per task: (the prompt clip's style, the output's style).
TASKS = {"N2A": ("normal", "asmr"), "A2A": ("asmr", "asmr"), "A2N": ("asmr", "normal"), "N2N": ("normal", "normal")}
TESTSET_KEYS = ("key", "transcription", "prompt_transcription", "prompt_audio", "ground_truth")


def build_testset(rows: list[dict], task: str, language: str, seed: int = 0) -> list[dict]:
    """Entries of one task for one language from manifest rows (already filtered to one split)."""
    prompt_style, target_style = TASKS[task]
    rng = random.Random(f"{seed}-{task}-{language}")
    by_speaker: dict[str, list[dict]] = {}
    for r in rows:
        if r["language"] == language:
            by_speaker.setdefault(r["speaker"], []).append(r)
    entries = []
    for speaker in sorted(by_speaker):
        utts = sorted(by_speaker[speaker], key=lambda r: r["id"])
        prompts = [r for r in utts if r["style"] == prompt_style]
        for target in (r for r in utts if r["style"] == target_style):
            choices = [p for p in prompts if p["text"] != target["text"]]
            if not choices:
                continue
            prompt = rng.choice(choices)
            entries.append({
                "key": str(len(entries)), "transcription": target["text"],
                "prompt_transcription": prompt["text"], "prompt_audio": prompt["path"],
                "ground_truth": target["path"],
            })
    return entries


def _manifest(corpus: str | Path) -> Path:
    corpus = Path(corpus)
    return corpus / "manifest.jsonl" if corpus.is_dir() else corpus


def train_texts(corpus: str | Path) -> set[str]:
    """Sentences of a corpus's train split: what a model trained on it has read."""
    return {r["text"] for r in read_manifest(_manifest(corpus)) if r["split"] == "train"}


def write_testsets(corpus: str | Path, out_dir: str | Path, split: str = "test", seed: int = 0,
                   exclude_texts: set[str] = frozenset()) -> dict[Path, int]:
    """Write every task x language list for `split`; returns {file: number of entries}. Utterances whose
    sentence is in `exclude_texts` are neither targets nor prompts: the sizes of a synthesised corpus deal its
    sentences differently, so a model trained on another corpus may have read some of this one's test text.
    Synthesised corpora deal sentences per speaker, so this can empty whole speakers (v2 against v1: 2 of 7
    English test speakers); check the speakers that remain before scoring on the result."""
    manifest = _manifest(corpus)
    rows = [r for r in read_manifest(manifest) if r["split"] == split and r["text"] not in exclude_texts]
    if not rows:
        raise DataError(f"{manifest}: no utterances in split {split!r}")
    out = Path(out_dir)
    written = {}
    for language in sorted({r["language"] for r in rows}):
        for task in TASKS:
            entries = build_testset(rows, task, language, seed)
            path = out / f"{language.upper()}_{task}_testset.json"
            write_text_atomic(path, json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
            written[path] = len(entries)
    return written
