"""Text normalisation before G2P and synthesis: numbers to words, unified punctuation, tidy spaces.

English: ordinals (21st), years (1984 before nouns is ambiguous; four-digit numbers 1100-2099 are read as
years), decimals, percentages, currency ($5), plain integers with or without thousands commas.
Mandarin: 百分之, decimals with 点, years (4 digits + 年) digit by digit, other integers as cardinals;
full-width punctuation is kept (it drives pauses) and ASCII punctuation is mapped to it.
"""

from __future__ import annotations

import re
import unicodedata

from deepasmr.errors import TextError
from deepasmr.frontend.numbers import (
    en_cardinal,
    en_decimal,
    en_ordinal,
    en_year,
    zh_cardinal,
    zh_decimal,
    zh_digits,
)

LANGUAGES = ("en", "zh")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": " - ", "\u2013": "-"})
_EN_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}
_ZH_PUNCT = str.maketrans({",": "，", ".": "。", "!": "！", "?": "？", ";": "；", ":": "："})


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise TextError(f"unsupported language {language!r}: expected one of {', '.join(LANGUAGES)}")


def _en_numbers(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"([$£€])(\d+)\.(\d\d)\b", _en_money, text)
    text = re.sub(r"([$£€])(\d+)", lambda m: f"{m.group(2)} {_EN_CURRENCY[m.group(1)]}", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s?%", lambda m: f"{m.group(1)} percent", text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: en_ordinal(int(m.group(1))), text)
    text = re.sub(r"\d*\.\d+", lambda m: en_decimal(m.group(0)), text)
    text = re.sub(r"\b(1[1-9]\d\d|20\d\d)\b", lambda m: en_year(int(m.group(1))), text)
    return re.sub(r"\d+", lambda m: en_cardinal(int(m.group(0))), text)


def _en_money(m: re.Match) -> str:
    cents = int(m.group(3))
    tail = f" {en_cardinal(cents)} cents" if cents else ""
    return f"{m.group(2)} {_EN_CURRENCY[m.group(1)]}{tail}"


def _zh_numbers(text: str) -> str:
    text = re.sub(r"(\d+(?:\.\d+)?)\s?[%％]", lambda m: "百分之" + _zh_number(m.group(1)), text)
    text = re.sub(r"(\d{4})\s?年", lambda m: zh_digits(m.group(1)) + "年", text)
    return re.sub(r"\d+(?:\.\d+)?", lambda m: _zh_number(m.group(0)), text)


def _zh_number(token: str) -> str:
    return zh_decimal(token) if "." in token else zh_cardinal(int(token))


def _first_question(run: str) -> str:
    if "?" in run or "？" in run:
        return "？" if "？" in run else "?"
    return run[0]


def normalize_text(text: str, language: str) -> str:
    """Spell out numbers and unify punctuation and spacing for `language` ("en" or "zh")."""
    _check_language(language)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"\s+", " ", text).strip()
    # "?!?!!" -> "?", "..." -> ".": a synthesizer reads runs of marks as one pause at best.
    text = re.sub(r"([.!?。！？])[.!?。！？]+", lambda m: _first_question(m.group(0)), text)
    if language == "en":
        text = re.sub(r"\s*--+\s*", ", ", text)
        text = _en_numbers(text)
        text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    else:
        text = _zh_numbers(text).translate(_ZH_PUNCT)
        # Spaces between Han characters carry nothing in Mandarin.
        text = re.sub(r"(?<=[\u4e00-\u9fff，。！？；：])\s+|\s+(?=[\u4e00-\u9fff，。！？；：])", "", text)
    return re.sub(r"\s+", " ", text).strip()
