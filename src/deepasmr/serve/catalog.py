"""What `voice` may name in a speech request, resolved to a clip on disk:

1. a registered voice id (deepasmr.serve.voices), with its transcript and style;
2. `default`: the configured clip, else `<model>/voices/default.wav`, else the first English normal-style
   clip of the bundle's pool (a clear 400 when none of them exists). A JSON file beside the clip with the
   same stem (`default.json`: {"text", "style", "language"}) gives its transcript and style;
3. a pool entry id or a pool speaker id of the loaded bundle (its clip, transcript and known style).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from deepasmr.serve.errors import ApiError
from deepasmr.serve.voices import VoiceStore

DEFAULT = "default"
DEFAULT_CLIP = Path("voices") / "default.wav"
log = logging.getLogger("deepasmr.serve")


@dataclass(frozen=True)
class VoiceRef:
    id: str
    kind: str  # uploaded | default | pool
    clip: Path
    transcript: str | None = None
    style: str | None = None
    language: str | None = None

    def to_dict(self) -> dict:
        return {"object": "voice", "id": self.id, "kind": self.kind, "name": self.id, "transcript": self.transcript,
                "style": self.style, "language": self.language}


def _clip_ref(clip: Path) -> VoiceRef:
    """The default voice from a clip, with transcript/style/language from its JSON sidecar when there is one."""
    meta, sidecar = {}, clip.with_suffix(".json")
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            log.warning("deepasmr serve: ignoring %s (%s)", sidecar, err)
    if not isinstance(meta, dict):
        meta = {}
    style = meta.get("style") if meta.get("style") in ("normal", "asmr") else None
    text = meta.get("text") if isinstance(meta.get("text"), str) and meta.get("text").strip() else None
    language = meta.get("language") if isinstance(meta.get("language"), str) else None
    return VoiceRef(DEFAULT, DEFAULT, clip, text, style, language)


class Catalog:
    def __init__(self, store: VoiceStore, bundle=None, default_voice: Path | None = None):
        self.store = store
        self.default_note = ""
        self._pool: dict[str, VoiceRef] = {}
        speakers: dict[str, VoiceRef] = {}
        if bundle is not None:
            # Normal-style entries first: a pool speaker id then names that speaker's ordinary voice.
            for style in ("normal", "asmr"):
                pool = bundle.pools.get(style)
                if pool is None:
                    continue
                for e in sorted(pool.entries, key=lambda e: e.id):
                    ref = VoiceRef(e.id, "pool", pool.audio_path(e), e.text or None, e.style, e.language)
                    self._pool[e.id] = ref
                    if e.speaker and e.speaker not in speakers:
                        speakers[e.speaker] = VoiceRef(e.speaker, "pool", ref.clip, ref.transcript, ref.style,
                                                       ref.language)
        for sid, ref in speakers.items():
            self._pool.setdefault(sid, ref)
        self.speakers = sorted(speakers)
        self.default = self._find_default(bundle, default_voice)

    def _find_default(self, bundle, configured: Path | None) -> VoiceRef | None:
        if configured is not None:
            if Path(configured).is_file():
                return _clip_ref(Path(configured))
            self.default_note = f"the configured default voice {configured} does not exist"
            return None
        if bundle is None:
            self.default_note = "no model is loaded, so there is no bundled default voice"
            return None
        clip = Path(bundle.root) / DEFAULT_CLIP
        if clip.is_file():
            return _clip_ref(clip)
        pool = bundle.pools.get("normal")
        entries = sorted((e for e in (pool.entries if pool else []) if e.language == "en"), key=lambda e: e.id)
        if entries and pool.audio_path(entries[0]).is_file():
            e = entries[0]
            return VoiceRef(DEFAULT, DEFAULT, pool.audio_path(e), e.text or None, e.style, e.language)
        self.default_note = (f"the bundle has no {DEFAULT_CLIP} and no English normal-style pool clip; start the "
                             "server with --default-voice CLIP")
        return None

    def resolve(self, voice_id: str) -> VoiceRef:
        voice = self.store.get(voice_id) if self.store.valid_id(voice_id) else None
        if voice is not None:
            clip = self.store.clip_path(voice_id)
            if clip is not None:
                return VoiceRef(voice.id, "uploaded", clip, voice.transcript, voice.style)
        if voice_id == DEFAULT:
            if self.default is None:
                raise ApiError(400, f"voice 'default' is not available: {self.default_note}", param="voice",
                               code="voice_not_found")
            return self.default
        if voice_id in self._pool:
            return self._pool[voice_id]
        raise ApiError(400, f"unknown voice {voice_id[:80]!r}: not a registered voice (see GET /v1/voices), a pool "
                            "speaker of the loaded model, or 'default'", param="voice", code="voice_not_found")

    def is_builtin(self, voice_id: str) -> bool:
        return voice_id == DEFAULT or voice_id in self._pool

    def builtin(self) -> list[VoiceRef]:
        """'default' (when there is one) and one entry per pool speaker."""
        out = [self.default] if self.default else []
        return out + [self._pool[s] for s in self.speakers]
