"""Text checks and splitting (no models)."""

from __future__ import annotations

import pytest

from deepasmr.errors import TextError
from deepasmr.pipeline.config import SpeakConfig
from deepasmr.pipeline.text import check_text, chunk_sentence, split_text


def test_check_text_detects_language_and_strips():
    assert check_text("  Hello there.  ", None, SpeakConfig()) == ("Hello there.", "en")
    assert check_text("你好，世界。", None, SpeakConfig())[1] == "zh"
    assert check_text("Café au lait.", "en", SpeakConfig())[1] == "en"


@pytest.mark.parametrize("text, lang", [("", None), ("x" * 2_001, None), ("Привет мир", None),
                                        ("こんにちは", None), ("Hello", "ja")])
def test_check_text_refuses(text, lang):
    with pytest.raises(TextError):
        check_text(text, lang, SpeakConfig())


def test_chunks_respect_the_limit_and_keep_every_word():
    words = " ".join(f"word{i}" for i in range(60))
    sentence = f"{words[:100]}, {words[100:]}"
    pieces = chunk_sentence(sentence, 50)
    assert len(pieces) > 1 and all(len(p) <= 50 for p in pieces)
    assert " ".join(pieces).replace(",", "").split() == sentence.replace(",", "").split()


def test_chunks_mandarin_without_spaces():
    pieces = chunk_sentence("今天的天气很好，我们去公园散步吧，然后回家吃饭睡觉做梦看星星月亮太阳", 10)
    assert all(len(p) <= 10 for p in pieces) and "".join(pieces).startswith("今天的天气很好，我们")


def test_split_text_splits_sentences_then_long_ones():
    cfg = SpeakConfig(max_sentence_chars=30)
    pieces = split_text("Short one. This second sentence is much longer than thirty characters, really.", cfg)
    assert pieces[0] == "Short one." and len(pieces) >= 3 and all(len(p) <= 30 for p in pieces)
