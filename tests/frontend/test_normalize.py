"""Numbers to words (en, zh) and text normalisation."""

import pytest

from deepasmr.frontend import normalize_text
from deepasmr.frontend.numbers import en_cardinal, en_ordinal, en_year, zh_cardinal, zh_decimal


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (7, "seven"), (42, "forty-two"), (100, "one hundred"), (115, "one hundred fifteen"),
    (3200, "three thousand two hundred"), (1_000_001, "one million one"),
])
def test_en_cardinal(n, words):
    assert en_cardinal(n) == words


def test_en_ordinal_and_year():
    assert [en_ordinal(n) for n in (1, 2, 3, 12, 21, 40)] == [
        "first", "second", "third", "twelfth", "twenty-first", "fortieth"]
    assert en_year(1984) == "nineteen eighty-four"
    assert en_year(1900) == "nineteen hundred"
    assert en_year(2005) == "two thousand five"


@pytest.mark.parametrize(("n", "words"), [
    (0, "零"), (10, "十"), (15, "十五"), (110, "一百一十"), (205, "二百零五"), (10005, "一万零五"),
    (100000, "十万"), (12345, "一万二千三百四十五"), (300000000, "三亿"),
])
def test_zh_cardinal(n, words):
    assert zh_cardinal(n) == words


def test_zh_decimal():
    assert zh_decimal("3.14") == "三点一四"


def test_normalize_english():
    out = normalize_text("On May 21st, 1984 I paid $5.50 for 3,200 apples, 45% red.", "en")
    assert out == ("On May twenty-first, nineteen eighty-four I paid five dollars fifty cents for "
                   "three thousand two hundred apples, forty-five percent red.")
    assert not any(ch.isdigit() for ch in out)


def test_normalize_mandarin():
    out = normalize_text("我在2024年买了35个苹果, 花了12.5元, 占45%.", "zh")
    assert out == "我在二零二四年买了三十五个苹果，花了十二点五元，占百分之四十五。"
