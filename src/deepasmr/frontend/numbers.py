"""Numbers to words, English and Mandarin, so every synthesizer and the G2P read digits the same way."""

from __future__ import annotations

EN_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"
]
EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
EN_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}

ZH_DIGITS = "零一二三四五六七八九"
ZH_SMALL_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
ZH_BIG_UNITS = ((10**8, "亿"), (10**4, "万"))
# Beyond this we read digit by digit (phone numbers, serials): no one says "ten trillion and ...".
MAX_CARDINAL = 10**15


def _en_below_1000(n: int) -> str:
    words = []
    if n >= 100:
        words += [EN_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(EN_TENS[n // 10] + (f"-{EN_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(EN_ONES[n])
    return " ".join(words)


def en_cardinal(n: int) -> str:
    """12345 -> 'twelve thousand three hundred forty-five'."""
    if n < 0:
        return "minus " + en_cardinal(-n)
    if n >= MAX_CARDINAL:
        return " ".join(EN_ONES[int(d)] for d in str(n))
    parts = []
    for scale, name in EN_SCALES:
        if n >= scale:
            parts.append(f"{_en_below_1000(n // scale)} {name}")
            n %= scale
    if n or not parts:
        parts.append(_en_below_1000(n))
    return " ".join(parts)


def en_ordinal(n: int) -> str:
    """21 -> 'twenty-first'."""
    words = en_cardinal(n)
    head, sep, last = words.rpartition(" ")
    stem, dash, unit = last.rpartition("-")
    if unit in EN_ORDINAL_IRREGULAR:
        unit = EN_ORDINAL_IRREGULAR[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return f"{head}{sep}{stem}{dash}{unit}"


def en_year(n: int) -> str:
    """1984 -> 'nineteen eighty-four'; 2005 -> 'two thousand five' (how years are read aloud)."""
    if 1100 <= n <= 1999 or 2010 <= n <= 2099:
        hi, lo = divmod(n, 100)
        if lo == 0:
            return f"{en_cardinal(hi)} hundred"
        return f"{en_cardinal(hi)} {'oh ' + EN_ONES[lo] if lo < 10 else en_cardinal(lo)}"
    return en_cardinal(n)


def en_decimal(text: str) -> str:
    """'3.14' -> 'three point one four'."""
    whole, _, frac = text.partition(".")
    head = en_cardinal(int(whole)) if whole else "zero"
    return head + " point " + " ".join(EN_ONES[int(d)] for d in frac)


def _zh_below_10000(n: int, leading: bool) -> str:
    out, zero_pending = [], False
    for unit, name in ZH_SMALL_UNITS:
        d = n // unit
        n %= unit
        if d:
            if zero_pending:
                out.append("零")
            # 十五, not 一十五, at the head of a number.
            if not (unit == 10 and d == 1 and leading and not out):
                out.append(ZH_DIGITS[d])
            out.append(name)
            zero_pending = False
        elif out:
            zero_pending = True
    if n:
        if zero_pending:
            out.append("零")
        out.append(ZH_DIGITS[n])
    return "".join(out)


def zh_cardinal(n: int) -> str:
    """12345 -> '一万二千三百四十五'."""
    if n < 0:
        return "负" + zh_cardinal(-n)
    if n == 0:
        return "零"
    if n >= MAX_CARDINAL:
        return "".join(ZH_DIGITS[int(d)] for d in str(n))
    out, need_zero = [], False
    for unit, name in (*ZH_BIG_UNITS, (1, "")):
        chunk = n // unit
        n %= unit
        if chunk:
            if need_zero or (out and chunk < 1000):
                out.append("零")
            out.append(_zh_below_10000(chunk, leading=not out) + name)
            need_zero = False
        elif out:
            need_zero = True
    text = "".join(out)
    return text.replace("零零", "零")


def zh_decimal(text: str) -> str:
    """'3.14' -> '三点一四'."""
    whole, _, frac = text.partition(".")
    return zh_cardinal(int(whole or 0)) + "点" + "".join(ZH_DIGITS[int(d)] for d in frac)


def zh_digits(text: str) -> str:
    """'2024' -> '二零二四' (years and codes are read digit by digit)."""
    return "".join(ZH_DIGITS[int(d)] for d in text)
