"""Importers: external data -> a corpus folder with the same manifest.jsonl as `data synth`.

Kinds: `deepasmr-db` (parquet shards with transcript / speaker / episode / audio, audio a dict holding
`bytes` or `path`), `testset` (the paper's JSON lists + an audio root; speakers from the audio's folder,
styles from the task in the file name), `folder` (audio files with same-name .txt/.lab transcripts;
speaker = sub-folder), `jsonl` (rows with a path and a text, other fields optional). Each row is checked
on its own: a bad row is reported with its reason and counted, never crashes the import.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deepasmr.data.manifest import read_manifest, write_jsonl
from deepasmr.data.testsets import TASKS
from deepasmr.errors import DataError, DeepASMRError

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3")
TRANSCRIPT_EXTS = (".txt", ".lab")
SAMPLE_RATE = 22050
# Errors listed in the summary; the count covers all of them.
MAX_LISTED_ERRORS = 20


@dataclass
class RawRow:
    """One utterance as found in the source, before checks and audio conversion."""

    where: str  # how to find it again in the source, for error messages
    text: object
    speaker: object
    audio: object  # a path (str/Path), raw bytes, or a dict with "bytes"/"path"
    style: str | None = None
    language: str | None = None
    split: str | None = None
    uid: str | None = None


@dataclass
class ImportReport:
    manifest: Path | None = None
    imported: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.imported > 0

    def summary(self) -> str:
        lines = [f"imported {self.imported} rows, {len(self.errors)} bad rows -> {self.manifest}"]
        lines += [f"  {e}" for e in self.errors[:MAX_LISTED_ERRORS]]
        if len(self.errors) > MAX_LISTED_ERRORS:
            lines.append(f"  ... and {len(self.errors) - MAX_LISTED_ERRORS} more")
        return "\n".join(lines)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "x"


# ---- sources -----------------------------------------------------------------------------------------

def _deepasmr_db(source: Path, **_) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    files = sorted(source.glob("**/*.parquet")) if source.is_dir() else [source]
    if not files:
        raise DataError(f"{source}: no .parquet files")
    for file in files:
        try:
            table = pq.read_table(file)
        except Exception as err:  # noqa: BLE001 - any parquet failure: skip the shard, say why
            yield RawRow(f"{file.name}", None, None, None, uid=f"!unreadable shard: {err}")
            continue
        for i, row in enumerate(table.to_pylist()):
            episode = row.get("episode")
            uid = f"{row.get('speaker')}_{episode}_{file.stem}_{i}"
            yield RawRow(f"{file.name} row {i}", row.get("transcript"), row.get("speaker"), row.get("audio"),
                         style="asmr", uid=uid)


def _testset(source: Path, audio_root: Path | None, **_) -> Iterator[RawRow]:
    try:
        entries = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{source}: not a readable test-set JSON ({err})") from None
    if not isinstance(entries, list):
        raise DataError(f"{source}: expected a JSON array of test entries")
    match = re.search(r"(N2A|A2A|A2N|N2N)", source.name.upper())
    prompt_style, target_style = TASKS[match.group(1)] if match else (None, None)
    root = audio_root or source.parent
    seen = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            yield RawRow(f"entry {i}", None, None, None, uid="!not a JSON object")
            continue
        for audio_key, text_key, style in (("prompt_audio", "prompt_transcription", prompt_style),
                                           ("ground_truth", "transcription", target_style)):
            rel = entry.get(audio_key)
            if rel in seen:
                continue
            seen.add(rel)
            speaker = Path(rel).parent.name if isinstance(rel, str) else None
            yield RawRow(f"entry {i} {audio_key}", entry.get(text_key), speaker,
                         root / rel if isinstance(rel, str) else None, style=style)


def _folder(source: Path, **_) -> Iterator[RawRow]:
    if not source.is_dir():
        raise DataError(f"{source}: not a folder")
    for audio in sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_EXTS):
        text_file = next((audio.with_suffix(e) for e in TRANSCRIPT_EXTS if audio.with_suffix(e).is_file()), None)
        text = text_file.read_text(encoding="utf-8", errors="replace").strip() if text_file else None
        rel = audio.relative_to(source)
        speaker = rel.parts[0] if len(rel.parts) > 1 else source.name
        yield RawRow(str(rel), text if text_file else None, speaker, audio,
                     uid=None if text_file else "!no .txt or .lab transcript beside it")


def _jsonl(source: Path, audio_root: Path | None, **_) -> Iterator[RawRow]:
    root = audio_root or source.parent
    for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            yield RawRow(f"line {n}", None, None, None, uid=f"!not JSON ({err.msg})")
            continue
        if not isinstance(row, dict):
            yield RawRow(f"line {n}", None, None, None, uid="!not a JSON object")
            continue
        path = next((row[k] for k in ("path", "audio", "audio_path", "wav") if k in row), None)
        text = next((row[k] for k in ("text", "transcript", "transcription") if k in row), None)
        yield RawRow(f"line {n}", text, row.get("speaker", source.stem),
                     root / path if isinstance(path, str) else None, style=row.get("style"),
                     language=row.get("language"), split=row.get("split"), uid=row.get("id"))


SOURCES = {"deepasmr-db": _deepasmr_db, "testset": _testset, "folder": _folder, "jsonl": _jsonl}


# ---- conversion --------------------------------------------------------------------------------------

def _load(audio: object, where: str):
    """(wav, sr) at SAMPLE_RATE from a path, bytes, or a {"bytes"|"path"} dict; AudioError if unusable."""
    from deepasmr.audio import load_audio

    if isinstance(audio, dict):
        audio = audio.get("bytes") or audio.get("path")
    if isinstance(audio, (bytes, bytearray)):
        with tempfile.NamedTemporaryFile(suffix=".audio") as tmp:
            tmp.write(audio)
            tmp.flush()
            return load_audio(tmp.name, SAMPLE_RATE)
    if isinstance(audio, (str, Path)):
        return load_audio(audio, SAMPLE_RATE)
    raise DataError("no audio (expected a path, bytes, or a dict with 'bytes'/'path')")


def _convert(raw: RawRow, out: Path, defaults: dict, copy_audio: bool, n: int) -> dict:
    from deepasmr.audio import load_audio, save_audio
    from deepasmr.frontend import detect_language, normalize_text

    if raw.uid and raw.uid.startswith("!"):
        raise DataError(raw.uid[1:])
    if not isinstance(raw.text, str) or not raw.text.strip():
        raise DataError("missing or empty transcript")
    if raw.speaker is None or not str(raw.speaker).strip():
        raise DataError("missing speaker")
    speaker = _safe(str(raw.speaker))
    language = defaults["language"] or raw.language or detect_language(raw.text)
    style = defaults["style"] or raw.style or "normal"
    if style not in ("normal", "asmr"):
        raise DataError(f"style {style!r} is not normal/asmr")
    uid = _safe(raw.uid) if raw.uid else f"{speaker}_{n:06d}"
    if copy_audio or not isinstance(raw.audio, (str, Path)):
        wav, sr = _load(raw.audio, raw.where)
        rel = Path("wavs") / speaker / f"{uid}.wav"
        save_audio(out / rel, wav, sr)
    else:
        wav, sr = load_audio(raw.audio)
        rel = Path(os.path.relpath(Path(raw.audio).resolve(), out.resolve()))
    return {
        "id": uid, "path": rel.as_posix(), "text": normalize_text(raw.text, language), "phonemes": "",
        "language": language, "speaker": speaker, "style": style, "source_voice": defaults["source"],
        "transform": "none", "duration": round(wav.size / sr, 3), "gender": "unknown",
        "split": raw.split if raw.split in ("train", "dev", "test") else defaults["split"],
    }


def _add_phonemes(rows: list[dict], errors: list[str]) -> list[dict]:
    from deepasmr.frontend import phonemize_batch

    kept = []
    for lang in sorted({r["language"] for r in rows}):
        group = [r for r in rows if r["language"] == lang]
        for row, phones in zip(group, phonemize_batch([r["text"] for r in group], lang, normalize=False),
                               strict=True):
            if phones:
                row["phonemes"] = " ".join(phones)
                kept.append(row)
            else:
                errors.append(f"{row['id']}: no pronounceable words in {row['text'][:40]!r}")
    return kept


def run_import(kind: str, source: str | Path, out_dir: str | Path, *, audio_root: str | Path | None = None,
               language: str | None = None, style: str | None = None, split: str = "train",
               copy_audio: bool = True) -> ImportReport:
    """Import `source` into `out_dir`/manifest.jsonl (merged by id with an existing manifest)."""
    if kind not in SOURCES:
        raise DataError(f"unknown import kind {kind!r}: expected one of {', '.join(SOURCES)}")
    source, out = Path(source), Path(out_dir)
    if not source.exists():
        raise DataError(f"{source}: no such file or folder")
    out.mkdir(parents=True, exist_ok=True)
    defaults = {"language": language, "style": style, "split": split, "source": f"import:{kind}"}
    report, rows, ids = ImportReport(), [], set()
    raws = SOURCES[kind](source, audio_root=Path(audio_root) if audio_root else None)
    for n, raw in enumerate(raws):
        try:
            row = _convert(raw, out, defaults, copy_audio, n)
            if row["id"] in ids:
                raise DataError(f"duplicate id {row['id']}")
        except (DeepASMRError, OSError, TypeError, ValueError, KeyError) as err:
            report.errors.append(f"{raw.where}: {err}")
            continue
        ids.add(row["id"])
        rows.append(row)
    rows = _add_phonemes(rows, report.errors)
    manifest = out / "manifest.jsonl"
    old = [r for r in read_manifest(manifest) if r["id"] not in ids] if manifest.is_file() else []
    if rows:
        write_jsonl(manifest, old + rows)
    report.manifest, report.imported = manifest, len(rows)
    return report
