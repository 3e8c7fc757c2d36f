"""Registered voices on disk: one folder per voice, `<root>/<id>/{clip.wav, voice.json}`.

A voice appears whole or not at all: its files are written and fsynced inside a hidden `.tmp-*` folder that is
then renamed onto `<root>/<id>` (one atomic rename). Deleting renames the folder to a hidden `.trash-*` name
before removing it. A crash mid-upload or mid-delete leaves only hidden folders, which listing ignores and
opening the store sweeps away.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

CLIP = "clip.wav"
META = "voice.json"
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ID_PREFIX = "voice_"


class VoiceLimitError(Exception):
    pass


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    transcript: str | None
    style: str  # the clip's style: given by the uploader, else the R_UV verdict measured at upload
    sample_rate: int
    duration_s: float
    created_at: float
    filename: str | None = None
    r_uv: float | None = None  # the clip's unvoiced ratio, measured at upload

    def to_dict(self) -> dict:
        return {"object": "voice", "kind": "uploaded", **asdict(self)}


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class VoiceStore:
    def __init__(self, root: str | os.PathLike, max_voices: int = 1_000):
        self.root = Path(root)
        self.max_voices = max_voices
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        self.sweep()

    def sweep(self) -> int:
        """Remove what interrupted uploads and deletes left behind; returns how many folders went."""
        n = 0
        for child in self.root.iterdir():
            if child.name.startswith((".tmp-", ".trash-")):
                shutil.rmtree(child, ignore_errors=True)
                n += 1
        return n

    @staticmethod
    def valid_id(voice_id: str) -> bool:
        return bool(ID_RE.match(voice_id or ""))

    def _dir(self, voice_id: str) -> Path | None:
        if not self.valid_id(voice_id):
            return None
        path = self.root / voice_id
        return path if (path / META).is_file() and (path / CLIP).is_file() else None

    def get(self, voice_id: str) -> Voice | None:
        path = self._dir(voice_id)
        if path is None:
            return None
        try:
            return Voice(**json.loads((path / META).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None  # unreadable metadata: treated as absent rather than crashing every listing

    def clip_path(self, voice_id: str) -> Path | None:
        path = self._dir(voice_id)
        return path / CLIP if path else None

    def voices(self) -> list[Voice]:
        voices = [v for child in sorted(self.root.iterdir()) if not child.name.startswith(".")
                  if (v := self.get(child.name)) is not None]
        return sorted(voices, key=lambda v: (v.created_at, v.id))

    def __len__(self) -> int:
        return sum(1 for child in self.root.iterdir() if not child.name.startswith(".") and self._dir(child.name))

    def add(self, wav: np.ndarray, sr: int, *, style: str, name: str | None = None, transcript: str | None = None,
            r_uv: float | None = None, filename: str | None = None) -> Voice:
        """Store a validated mono clip (float, any rate) as a new voice; returns it with its new id."""
        import soundfile as sf

        with self._lock:
            if len(self) >= self.max_voices:
                raise VoiceLimitError(f"the server already holds {self.max_voices} voices (its limit): delete some "
                                      "with DELETE /v1/voices/{id}")
            voice_id = ID_PREFIX + secrets.token_hex(6)
            while (self.root / voice_id).exists():
                voice_id = ID_PREFIX + secrets.token_hex(6)
            voice = Voice(id=voice_id, name=(name or "").strip() or voice_id, transcript=transcript, style=style,
                          sample_rate=int(sr), duration_s=round(wav.size / sr, 3), created_at=round(time.time(), 3),
                          filename=filename, r_uv=r_uv)
            tmp = self.root / f".tmp-{voice_id}-{secrets.token_hex(4)}"
            tmp.mkdir()
            try:
                with open(tmp / CLIP, "wb") as f:
                    sf.write(f, np.clip(wav, -1.0, 1.0).astype(np.float32), int(sr), format="WAV", subtype="PCM_16")
                    f.flush()
                    os.fsync(f.fileno())
                _write_synced(tmp / META, json.dumps(asdict(voice), ensure_ascii=False, indent=1).encode("utf-8"))
                _fsync_dir(tmp)
                os.rename(tmp, self.root / voice_id)
                _fsync_dir(self.root)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return voice

    def delete(self, voice_id: str) -> bool:
        with self._lock:
            path = self._dir(voice_id)
            if path is None:
                return False
            trash = self.root / f".trash-{voice_id}-{secrets.token_hex(4)}"
            os.rename(path, trash)
            _fsync_dir(self.root)
            shutil.rmtree(trash, ignore_errors=True)
            return True
