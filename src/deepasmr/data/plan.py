"""What the corpus will contain: speakers, how many utterances each, which sentence in which style.

Each speaker reads a list of sentences S. The first `n_pair` are spoken in BOTH styles (the paper's test
sets need a speaker's normal and ASMR takes of the same text); the rest are split between normal-only and
ASMR-only so prompts and targets also come on different sentences. Sentences are dealt from the language's
shuffled pool without replacement (cycling only when the pool runs out), which maximises distinct
sentences. Everything follows from the seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from deepasmr.data.delivery import DeliveryConfig
from deepasmr.data.speakers import ROSTER_BY_ID, Speaker, SplitConfig, assign_splits, build_roster
from deepasmr.data.textpool import TextPoolConfig, sentence_pool
from deepasmr.data.world_fx import WorldConfig
from deepasmr.errors import DataError


@dataclass(frozen=True)
class SynthConfig:
    hours: float = 3.0
    seed: int = 0
    jobs: int = 2
    sample_rate: int = 22050
    # Roster subset (ids from speakers.build_roster); None = every virtual speaker.
    speakers: tuple[str, ...] | None = None
    # Fixed utterances per speaker; None = derived from `hours`.
    utts_per_speaker: int | None = None
    # Enough per speaker for a prompt and a different target in each style, pairs included.
    min_utts_per_speaker: int = 6
    # Share of a speaker's utterances that belong to sentences spoken in both styles.
    pair_fraction: float = 0.5
    # Measured mean utterance length over both styles (used only to turn --hours into counts).
    mean_utt_seconds: float = 3.6
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    world: WorldConfig = field(default_factory=WorldConfig)
    text: TextPoolConfig = field(default_factory=TextPoolConfig)
    split: SplitConfig = field(default_factory=SplitConfig)


@dataclass(frozen=True)
class Utterance:
    id: str
    speaker: str
    style: str
    text: str
    path: str


def select_speakers(cfg: SynthConfig) -> list[Speaker]:
    if cfg.speakers is None:
        return build_roster()
    unknown = [s for s in cfg.speakers if s not in ROSTER_BY_ID]
    if unknown:
        raise DataError(f"unknown speaker ids: {', '.join(unknown)}")
    return [ROSTER_BY_ID[s] for s in cfg.speakers]


def utts_per_speaker(cfg: SynthConfig, n_speakers: int) -> int:
    if cfg.utts_per_speaker is not None:
        return max(cfg.utts_per_speaker, 4)
    wanted = cfg.hours * 3600 / cfg.mean_utt_seconds / max(n_speakers, 1)
    return max(cfg.min_utts_per_speaker, round(wanted))


def _style_layout(n: int, pair_fraction: float) -> tuple[int, int, int]:
    """(paired sentences, normal-only, asmr-only) for n utterances; at least 2 per style, 1 pair."""
    n_pair = max(1, round(n * pair_fraction / 2))
    rest = max(0, n - 2 * n_pair)
    return n_pair, (rest + 1) // 2, rest // 2


class _Dealer:
    """Deals sentences from a seeded shuffle of the pool, cycling when exhausted."""

    def __init__(self, pool: tuple[str, ...], rng: random.Random):
        self.pool, self.rng, self.order, self.pos = pool, rng, [], 0

    def take(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            if self.pos >= len(self.order):
                self.order, self.pos = self.rng.sample(self.pool, len(self.pool)), 0
            cand = self.order[self.pos]
            self.pos += 1
            if cand not in out:
                out.append(cand)
        return out


def plan_corpus(cfg: SynthConfig) -> tuple[list[Speaker], dict[str, list[Utterance]], dict[str, str]]:
    """Speakers, each speaker's utterances (in order) and the speaker splits."""
    speakers = select_speakers(cfg)
    n = utts_per_speaker(cfg, len(speakers))
    n_pair, n_norm, n_asmr = _style_layout(n, cfg.pair_fraction)
    dealers = {
        lang: _Dealer(sentence_pool(lang, cfg.text), random.Random(f"{cfg.seed}-{lang}"))
        for lang in sorted({s.language for s in speakers})
    }
    width = max(3, math.ceil(math.log10(n + 1)))
    plan = {}
    for spk in speakers:
        sents = dealers[spk.language].take(n_pair + n_norm + n_asmr)
        normal_idx = list(range(n_pair + n_norm))
        asmr_idx = list(range(n_pair)) + list(range(n_pair + n_norm, len(sents)))
        utts = []
        for style, idx in (("normal", normal_idx), ("asmr", asmr_idx)):
            for k in idx:
                uid = f"{spk.id}_{style}_{k:0{width}d}"
                utts.append(Utterance(uid, spk.id, style, sents[k], f"wavs/{spk.id}/{uid}.wav"))
        plan[spk.id] = utts
    return speakers, plan, assign_splits(speakers, cfg.split)
