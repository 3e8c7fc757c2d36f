"""Text checks and splitting for synthesis: refuse what cannot be spoken, cut long text into LM-sized pieces."""

from __future__ import annotations

import re
import unicodedata

from deepasmr.errors import TextError
from deepasmr.pipeline.config import SpeakConfig

# Clause boundaries (ASCII and full-width) where an over-long sentence may be cut.
_CLAUSE_END = re.compile(r"(?<=[,;:，、；：])\s*")
_FULL_WIDTH = "，、；：。！？"


def _is_supported_letter(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("LATIN", "CJK UNIFIED", "CJK COMPATIBILITY"))


def check_text(text: str, lang: str | None, config: SpeakConfig) -> tuple[str, str]:
    """(stripped text, language) or TextError: empty, too long, unsupported script or language."""
    from deepasmr.frontend import LANGUAGES, detect_language, normalize_text

    if not isinstance(text, str) or not text.strip():
        raise TextError("the text is empty: give something to say")
    text = text.strip()
    if len(text) > config.max_chars:
        raise TextError(f"the text has {len(text)} characters; the maximum is {config.max_chars} "
                        "(split it into several requests)")
    if lang is not None and lang not in LANGUAGES:
        raise TextError(f"unsupported language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    foreign = sorted({ch for ch in text if ch.isalpha() and not _is_supported_letter(ch)})
    if foreign:
        raise TextError(f"unsupported script in the text ({''.join(foreign[:10])!r}): only English (Latin) and "
                        f"Mandarin (Han) are supported")
    detected = detect_language(text)
    lang = lang or detected
    if not normalize_text(text, lang).strip():
        raise TextError(f"nothing to say in {text[:40]!r} after normalisation")
    return text, lang


def _hard_cut(piece: str, limit: int) -> list[str]:
    """Cut at the last space before `limit` (or at `limit` for text without spaces, e.g. Mandarin)."""
    out = []
    while len(piece) > limit:
        cut = piece.rfind(" ", 0, limit + 1)
        cut = cut if cut > 0 else limit
        out.append(piece[:cut].strip())
        piece = piece[cut:].strip()
    return [*out, piece] if piece else out


def _glue(a: str, b: str) -> str:
    """Join two clauses: a space after ASCII punctuation, nothing after a full-width mark."""
    if not a:
        return b
    return a + ("" if a[-1] in _FULL_WIDTH else " ") + b


def chunk_sentence(sentence: str, limit: int) -> list[str]:
    """One sentence -> pieces of at most `limit` characters, cut at clause marks first, then at spaces."""
    if len(sentence) <= limit:
        return [sentence]
    pieces, current = [], ""
    for clause in (c.strip() for c in _CLAUSE_END.split(sentence)):
        if not clause:
            continue
        if len(_glue(current, clause)) <= limit:
            current = _glue(current, clause)
            continue
        if current:
            pieces.append(current)
        *full, current = _hard_cut(clause, limit)
        pieces.extend(full)
    return [p for p in (*pieces, current) if p]


def split_text(text: str, config: SpeakConfig) -> list[str]:
    """Sentences (deepasmr.frontend.split_sentences), each cut to at most config.max_sentence_chars."""
    from deepasmr.frontend import split_sentences

    return [p for s in split_sentences(text) for p in chunk_sentence(s, config.max_sentence_chars)]
