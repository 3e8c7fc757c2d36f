"""The sentence pool of each language: filtered fortunes plus grammar sentences, normalised, deduplicated.

The order is fixed (sorted by a hash), so a seed picks the same sentences on every machine that has the
same fortune packages installed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from deepasmr.data import fortunes, grammar_en, grammar_zh


@dataclass(frozen=True)
class TextPoolConfig:
    # Generated sentences added to the fortunes (fortunes alone give ~2.5k English sentences).
    grammar_en: int = 3000
    grammar_zh: int = 1500
    grammar_seed: int = 0


def _key(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@lru_cache(maxsize=4)
def sentence_pool(language: str, cfg: TextPoolConfig = TextPoolConfig()) -> tuple[str, ...]:
    """All usable sentences of `language`, normalised (numbers as words), in a fixed order."""
    from deepasmr.frontend import normalize_text

    if language == "en":
        raw = fortunes.en_fortune_sentences() + grammar_en.grammar_sentences(cfg.grammar_en, cfg.grammar_seed)
    else:
        raw = fortunes.zh_fortune_sentences() + grammar_zh.grammar_sentences(cfg.grammar_zh, cfg.grammar_seed)
    normed = {normalize_text(t, language) for t in raw}
    return tuple(sorted((t for t in normed if t), key=_key))


def source_counts(cfg: TextPoolConfig = TextPoolConfig()) -> dict[str, int]:
    return {
        "en_fortunes": len(fortunes.en_fortune_sentences()),
        "en_grammar": cfg.grammar_en,
        "zh_fortunes": len(fortunes.zh_fortune_sentences()),
        "zh_grammar": cfg.grammar_zh,
    }
