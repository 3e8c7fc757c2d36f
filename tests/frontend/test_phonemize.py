"""G2P through the espeakng-loader library, language detection and sentence splitting."""

import re
import time

import pytest

from deepasmr.errors import TextError
from deepasmr.frontend import detect_language, phonemize, phonemize_batch, split_sentences, to_pinyin


def test_english_phones():
    phones = phonemize("Hello world.", "en")
    assert phones[:4] == ["h", "ə", "l", "ˈoʊ"]
    assert "|" not in phones and "." not in phones


def test_english_numbers_are_spoken():
    assert phonemize("7 cats", "en") == phonemize("seven cats", "en")


def test_mandarin_phones_keep_tones():
    phones = phonemize("你好，世界。", "zh")
    assert len(phones) >= 6
    # espeak's pinyin voice marks every final with a tone symbol (digits or ɜ).
    assert sum(bool(re.search(r"[0-9ɜ]$", p)) for p in phones) >= 4


def test_mandarin_polyphones_follow_words():
    assert to_pinyin("银行") == "yin2 hang2"
    assert to_pinyin("行走") == "xing2 zou3"


@pytest.mark.parametrize("language", ["fr", "", "english"])
def test_unknown_language_is_a_text_error(language):
    with pytest.raises(TextError, match="unsupported language"):
        phonemize("bonjour", language)


def test_nothing_to_say_is_a_text_error():
    with pytest.raises(TextError):
        phonemize("...", "en")


def test_batch_is_fast():
    lines = [f"The quiet lantern number {i} glowed beside the frozen lake." for i in range(2000)]
    start = time.perf_counter()
    out = phonemize_batch(lines, "en")
    assert len(out) == 2000 and all(out)
    assert time.perf_counter() - start < 10  # ~1 s unloaded; generous for a shared CI machine


def test_detect_language():
    assert detect_language("Hello there") == "en"
    assert detect_language("你好 world") == "zh"
    with pytest.raises(TextError):
        detect_language("1234 !!")


def test_split_sentences():
    assert split_sentences("Hi there. How are you? Fine! 你好。再见！") == [
        "Hi there.", "How are you?", "Fine!", "你好。", "再见！"]
    assert split_sentences("Mr. smith stays.") == ["Mr. smith stays."]
