"""What the English and Mandarin sentence grammars share: word lists and drawing distinct sentences."""

from __future__ import annotations

import random
from collections.abc import Callable


def words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(sep) if w.strip())


def distinct_sentences(sentence: Callable[[random.Random], str], count: int, seed: int = 0) -> list[str]:
    """`count` distinct sentences drawn from `sentence(rng)`, the same list for the same seed."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}  # a dict keeps first-drawn order, so the list is deterministic
    while len(seen) < count:
        seen.setdefault(sentence(rng), None)
    return list(seen)
