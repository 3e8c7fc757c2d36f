"""Text normalisation for WER/CER, applied identically to reference and hypothesis.

English: lower case; digits spelled out (Whisper writes "5" where our corpus text says "five", an error
that is not the model's); "%" and "&" spelled; apostrophes dropped ("don't" -> "dont", so both spellings
agree); every other punctuation mark becomes a space; whitespace collapsed.
Mandarin: Traditional -> Simplified (OpenCC t2s; Whisper mixes both scripts), punctuation and all
whitespace removed, Arabic digits read digit by digit; CER is then over characters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ZH_DIGITS = "零一二三四五六七八九"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR_RANGE = range(1100, 2000)


def int_to_words(n: int) -> str:
    """Cardinal number in English words (0 <= n < 10**12)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for size, name in _SCALES:
        if n >= size:
            head, rest = divmod(n, size)
            return f"{int_to_words(head)} {name}" + (f" {int_to_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _number_words(match: re.Match) -> str:
    token = match.group(0)
    whole, _, frac = token.replace(",", "").partition(".")
    n = int(whole)
    if n >= 10**12:
        return " ".join(_ONES[int(d)] for d in token if d.isdigit())
    # Years are read in pairs ("nineteen eighty four"), as speakers (and our corpus text) say them.
    if n in _YEAR_RANGE and n % 100 and not frac:
        words = f"{int_to_words(n // 100)} {int_to_words(n % 100)}"
    else:
        words = int_to_words(n)
    if frac:  # digit by digit; an ASR may write a version-like "1.2.3", each further dot read as "point"
        words += " point " + " ".join(_ONES[int(d)] if d.isdigit() else "point" for d in frac)
    return f" {words} "


def _strip_punctuation(text: str, keep: str = "") -> str:
    # Unicode category P* (punctuation) and S* (symbols) become spaces; letters/marks/digits stay.
    return "".join(" " if unicodedata.category(c)[0] in "PS" and c not in keep else c for c in text)


def normalize_en(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"['\u2019`]", "", text)
    text = _NUMBER.sub(_number_words, text)
    text = _strip_punctuation(text)
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def normalize_zh(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text).lower()
    text = re.sub(r"\d", lambda m: _ZH_DIGITS[int(m.group(0))], text)
    text = _strip_punctuation(text)
    return "".join(text.split())


def normalize(text: str, language: str) -> str:
    if language == "zh":
        return normalize_zh(text)
    if language == "en":
        return normalize_en(text)
    # Other languages: only the language-neutral steps.
    return " ".join(_strip_punctuation(unicodedata.normalize("NFKC", text).lower()).split())
