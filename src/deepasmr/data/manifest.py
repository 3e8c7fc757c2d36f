"""The corpus manifest: one JSON object per utterance, with exactly MANIFEST_KEYS, paths relative to the
manifest's folder. Writes are atomic (temp file + rename)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from deepasmr.atomic import write_text_atomic
from deepasmr.errors import DataError

MANIFEST_KEYS = (
    "id", "path", "text", "phonemes", "language", "speaker", "style", "source_voice", "transform",
    "duration", "gender", "split",
)
STYLES = ("normal", "asmr")
SPLITS = ("train", "dev", "test")
LANGUAGES = ("en", "zh")


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def check_row(row: dict) -> dict:
    """Raise DataError unless `row` has exactly the manifest keys with sane values."""
    if not isinstance(row, dict):
        raise DataError(f"expected a JSON object, got {type(row).__name__}")
    keys = set(row)
    if keys != set(MANIFEST_KEYS):
        missing, extra = set(MANIFEST_KEYS) - keys, keys - set(MANIFEST_KEYS)
        raise DataError(f"row {row.get('id', '?')}: missing keys {sorted(missing)}, unexpected {sorted(extra)}")
    for field, allowed in (("language", LANGUAGES), ("style", STYLES), ("split", SPLITS)):
        if row[field] not in allowed:
            raise DataError(f"row {row['id']}: {field} {row[field]!r} is not one of {allowed}")
    if not str(row["text"]).strip():
        raise DataError(f"row {row['id']}: empty text")
    if not isinstance(row["duration"], (int, float)) or row["duration"] <= 0:
        raise DataError(f"row {row['id']}: duration must be a positive number")
    return row


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Rows of a manifest.jsonl, each checked; DataError names the line of the first bad row."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such manifest")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(check_row(json.loads(line)))
        except (json.JSONDecodeError, DataError) as err:
            raise DataError(f"{path}:{n}: {err}") from None
    return rows
