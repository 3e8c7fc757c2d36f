"""A tiny real corpus for tests and demos: 3 English speakers (flite, festival, espeak; one warped) and
2 Mandarin speakers, both styles, 3 utterances per style each (2 sentences paired across styles)."""

from __future__ import annotations

from pathlib import Path

from deepasmr.data.plan import SynthConfig

TINY_SPEAKERS = (
    "en-fl-slt-p100r113w110",
    "en-fe-kal-p100r100w100",
    "en-es-gbm3-p100r100w100",
    "zh-es-zhf2-p100r100w100",
    "zh-es-zhm1-p084r113w110",
)
TINY_UTTS_PER_SPEAKER = 6


def tiny_config(seed: int = 0, jobs: int = 2) -> SynthConfig:
    return SynthConfig(seed=seed, jobs=jobs, speakers=TINY_SPEAKERS, utts_per_speaker=TINY_UTTS_PER_SPEAKER)


def build_tiny_corpus(out_dir: str | Path, seed: int = 0, jobs: int = 2, progress: bool = False) -> Path:
    """Synthesise (or finish) the tiny corpus in `out_dir`; returns its manifest.jsonl."""
    from deepasmr.data.synth import run_synth

    return run_synth(out_dir, tiny_config(seed, jobs), progress=progress)
