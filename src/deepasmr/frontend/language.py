"""Script-based language detection and sentence splitting (no model: Han characters mean Mandarin)."""

from __future__ import annotations

import re

from deepasmr.errors import TextError

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A Han character is a syllable, an English word one to a few: compare characters with words. Mixed
# lines count as Mandarin from this share on (code-switched Mandarin often carries English words).
HAN_SHARE_FOR_ZH = 0.5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9\u4e00-\u9fff])|(?<=[。！？；])")


def detect_language(text: str) -> str:
    """Return "zh" or "en" from the script: Han characters vs Latin words; TextError when neither."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    if han + latin == 0:
        raise TextError(f"cannot tell the language of {text[:40]!r}: it has no Latin or Han letters")
    if han / (han + latin) >= HAN_SHARE_FOR_ZH:
        return "zh"
    return "en"


def split_sentences(text: str) -> list[str]:
    """Split at sentence-final punctuation (ASCII followed by a capital, or full-width)."""
    parts = _SENTENCE_END.split(re.sub(r"\s+", " ", text).strip())
    return [p.strip() for p in parts if p and p.strip()]
