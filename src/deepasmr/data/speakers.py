"""Virtual speakers: base voices multiplied by pitch, speaking-rate and formant-warp factors, and the
speaker-disjoint train/dev/test split.

A speaker's id spells its recipe, e.g. `en-fl-slt-p119r088w110` (language, base voice, pitch x1.19,
rate x0.88, warp x1.10), so ids are stable across builds and seeds. Within a base voice every speaker has
its own formant warp (the timbre cue that survives whispering); pitch and rate rotate over the grid.
Gender is the base voice's; `pitch` and `rate` descriptors (low/mid/high, slow/normal/fast) give the
virtual-speaker pool its gender x pitch x speed spread.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from deepasmr.data.voices import BASE_VOICES, BaseVoice
from deepasmr.data.world_fx import VoiceTransform

PITCHES = (0.84, 1.0, 1.19)
RATES = (0.88, 1.0, 1.13)
# Formant warps 0.1 apart: a quick resemblyzer check found whispered speakers of one base voice
# indistinguishable at 0.05 spacing and distinct at 0.1 (ASMR drops pitch, so warp carries identity).
WARPS = (0.8, 0.9, 1.0, 1.1, 1.2)
# The k-th speaker of a base voice takes WARP_ORDER[k] (so warps never repeat within a base) and a
# (pitch, rate) pair from PITCH_RATE_ORDER, rotated per base so the corpus covers the whole grid.
WARP_ORDER = (2, 1, 3, 0, 4)
PITCH_RATE_ORDER = ((1, 1), (0, 2), (2, 0), (0, 0), (2, 2), (1, 0), (1, 2), (0, 1), (2, 1))
PITCH_NAMES = ("low", "mid", "high")
RATE_NAMES = ("slow", "normal", "fast")
# Speakers per base voice, by engine family (at most len(WARPS)).
SPEAKERS_PER_BASE = {("en", "flite"): 5, ("en", "festival"): 5, ("en", "espeak"): 4, ("zh", "espeak"): 2}


@dataclass(frozen=True)
class Speaker:
    id: str
    language: str
    base: BaseVoice
    pitch: float
    rate: float
    warp: float
    gender: str
    pitch_class: str
    rate_class: str
    # espeak speakers alternate native whisper and WORLD pseudo-whisper, so both ASMR sources appear.
    asmr_source: str  # "native" | "world"

    def transform(self, style: str, asmr_stretch: float) -> VoiceTransform:
        if style == "asmr":
            return VoiceTransform(pitch=1.0, warp=self.warp, stretch=asmr_stretch / self.rate, whisper=True)
        return VoiceTransform(pitch=self.pitch, warp=self.warp, stretch=1.0 / self.rate)

    def describe(self) -> dict:
        return {
            "id": self.id, "language": self.language, "base_voice": self.base.key, "engine": self.base.engine,
            "gender": self.gender, "pitch": self.pitch_class, "rate": self.rate_class,
            "pitch_factor": self.pitch, "rate_factor": self.rate, "warp_factor": self.warp,
            "asmr_source": self.asmr_source,
        }


def _make(base: BaseVoice, combo: tuple[int, int, int], native: bool) -> Speaker:
    p, r, w = PITCHES[combo[0]], RATES[combo[1]], WARPS[combo[2]]
    sid = f"{base.language}-{base.key}-p{round(p * 100):03d}r{round(r * 100):03d}w{round(w * 100):03d}"
    return Speaker(
        id=sid, language=base.language, base=base, pitch=p, rate=r, warp=w, gender=base.gender,
        pitch_class=PITCH_NAMES[combo[0]], rate_class=RATE_NAMES[combo[1]],
        asmr_source="native" if native else "world",
    )


def build_roster() -> list[Speaker]:
    """Every virtual speaker, in a fixed order (70 English, 20 Mandarin)."""
    roster = []
    for b_idx, base in enumerate(BASE_VOICES):
        count = SPEAKERS_PER_BASE[(base.language, base.engine)]
        for k in range(count):
            # The identity (mid pitch, normal rate, warp 1) first for every base; later ones rotate.
            pitch, rate = (1, 1) if k == 0 else PITCH_RATE_ORDER[1 + (b_idx * (count - 1) + k - 1) % 8]
            warp = WARP_ORDER[k]
            if count == 2 and k == 1 and b_idx % 2 == 0:
                warp = WARP_ORDER[2]  # two speakers per base (Mandarin): second one up or down in turn
            native = base.has_native_whisper and (b_idx + k) % 2 == 0
            roster.append(_make(base, (pitch, rate, warp), native))
    return roster


ROSTER_BY_ID = {s.id: s for s in build_roster()}


@dataclass(frozen=True)
class SplitConfig:
    test_fraction: float = 0.1
    dev_fraction: float = 0.05


def _stable_rank(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def assign_splits(speakers: list[Speaker], cfg: SplitConfig = SplitConfig()) -> dict[str, str]:
    """Speaker -> "train" | "dev" | "test", per language, engines interleaved so held-out speakers span
    every engine. Depends only on the speaker ids (stable across seeds and corpus sizes)."""
    splits = {}
    for lang in sorted({s.language for s in speakers}):
        groups: dict[str, list[str]] = {}
        for s in speakers:
            if s.language == lang:
                groups.setdefault(s.base.engine, []).append(s.id)
        for ids in groups.values():
            ids.sort(key=_stable_rank)
        order = []
        while any(groups.values()):
            for eng in sorted(groups):
                if groups[eng]:
                    order.append(groups[eng].pop(0))
        n = len(order)
        n_test = max(1, round(cfg.test_fraction * n)) if n >= 2 else 0
        n_dev = max(1, round(cfg.dev_fraction * n)) if n >= 3 else 0
        for i, sid in enumerate(order):
            splits[sid] = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
    return splits
