"""Hanzi -> tone-numbered pinyin (pypinyin, phrase-aware so polyphones like 银行/行走 come out right).

espeak-ng's `cmn-latn-pinyin` voice reads syllables such as "ni3 hao3"; its Hanzi reader picks one
reading per character, so we convert first. Punctuation becomes ASCII so the synthesizer pauses on it.
"""

from __future__ import annotations

import re

_PUNCT_TO_ASCII = {"，": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ",", "、": ","}
_KEEP = re.compile(r"^[a-z]+[1-5]$")


def to_pinyin(text: str) -> str:
    """'你好，世界。' -> 'ni3 hao3 , shi4 jie4 .' (neutral tone as 5; ü written as v)."""
    from pypinyin import Style, lazy_pinyin

    out = []
    for token in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: list(s)):
        token = token.strip()
        if not token:
            continue
        if _KEEP.match(token):
            out.append(token)
        elif token in _PUNCT_TO_ASCII:
            out.append(_PUNCT_TO_ASCII[token])
        elif token in ",.!?;":
            out.append(token)
    return " ".join(out)
