"""Sentences from Debian's fortune files, read at build time from /usr/share/games/fortunes.

Licences: `fortunes` (BSD fortune(6) data, "falls under the BSD copyright" per
/usr/share/doc/fortunes/copyright) for English; `fortunes-zh` (GPL-3.0+, per /usr/share/doc/fortunes-zh/
copyright) for Mandarin (`chinese`, `tang300`, `song100`). We ship no fortune text: the corpus build reads
the installed files. Offensive material is filtered: the risky collections are skipped entirely and every
line is checked against a blocklist.
"""

from __future__ import annotations

import re
from pathlib import Path

FORTUNE_DIR = Path("/usr/share/games/fortunes")
EN_FILES = (
    "fortunes", "literature", "wisdom", "people", "platitudes", "education", "food", "humorists", "kids",
    "science", "songs-poems", "work", "love", "pets", "sports", "magic", "paradoxum", "riddles", "goedel",
    "news", "law", "miscellaneous", "cookie", "definitions", "computers", "tao",
)
ZH_FILES = ("chinese", "tang300", "song100")
# Whole words (lower case) that drop a line; profanity, slurs, sex, violence, drugs.
EN_BLOCK = frozenset(
    [
        "fuck", "fucking", "shit", "damn", "bitch", "bastard", "ass", "asshole", "crap", "sex", "sexual",
        "sexy", "naked", "nude", "porn", "penis", "vagina", "breast", "breasts", "whore", "slut", "rape",
        "raped", "kill", "killed", "killing", "murder", "suicide", "gun", "guns", "drunk", "drug", "drugs",
        "cocaine", "heroin", "marijuana", "god", "jesus", "christ", "hell", "nigger", "fag", "gay", "dick",
        "cock", "piss", "pussy", "bloody", "hate", "nazi", "hitler", "jew", "jews", "negro", "virgin",
        "prostitute", "kiss"
    ]
)
ZH_BLOCK = ("操", "屄", "妈的", "他妈", "傻逼", "婊", "杀", "死", "血", "淫", "妓", "尸")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
EN_ALLOWED = re.compile(r"^[A-Za-z0-9 ,.'?!;:\-$%]+$")
ZH_ALLOWED = re.compile(r"^[\u4e00-\u9fff，。！？；、0-9]+$")
EN_WORDS = (4, 20)
ZH_CHARS = (5, 28)


def _entries(path: Path) -> list[str]:
    text = _ANSI.sub("", path.read_text(encoding="utf-8", errors="replace"))
    return [e.strip() for e in text.split("\n%\n")]


def _en_sentences(entry: str) -> list[str]:
    from deepasmr.frontend import split_sentences

    # Attributions ("-- Mark Twain") and quoted dialogue layouts are dropped with their lines.
    body = " ".join(ln.strip() for ln in entry.splitlines() if ln.strip() and not ln.strip().startswith("--"))
    if re.search(r"\t|  {2,}|\b[A-Z]+:", entry):
        return []
    return split_sentences(body)


def en_fortune_sentences() -> list[str]:
    out: dict[str, None] = {}
    for name in EN_FILES:
        path = FORTUNE_DIR / name
        if not path.is_file():
            continue
        for entry in _entries(path):
            for sent in _en_sentences(entry):
                words = sent.split()
                if not (EN_WORDS[0] <= len(words) <= EN_WORDS[1]) or not EN_ALLOWED.match(sent):
                    continue
                if not sent[0].isupper() or sent[-1] not in ".?!":
                    continue
                lowered = {w.strip(",.'?!;:-").lower() for w in words}
                if lowered & EN_BLOCK or sum(w.isupper() and len(w) > 1 for w in words) > 1:
                    continue
                out.setdefault(sent, None)
    return list(out)


def zh_fortune_sentences() -> list[str]:
    out: dict[str, None] = {}
    for name in ZH_FILES:
        path = FORTUNE_DIR / name
        if not path.is_file():
            continue
        for entry in _entries(path):
            for line in entry.splitlines():
                line = line.strip()
                if not line or "《" in line or "作者" in line or line.startswith("--"):
                    continue
                for sent in re.findall(r"[^。！？；]+[。！？；]?", line):
                    sent = sent.strip().replace("；", "。").rstrip("，、")
                    han = len(re.findall(r"[\u4e00-\u9fff]", sent))
                    if not (ZH_CHARS[0] <= han <= ZH_CHARS[1]) or not ZH_ALLOWED.match(sent):
                        continue
                    if any(b in sent for b in ZH_BLOCK):
                        continue
                    if sent[-1] not in "。！？":
                        sent += "。"
                    out.setdefault(sent, None)
    return list(out)
