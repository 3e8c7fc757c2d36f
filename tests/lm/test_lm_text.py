import pytest

from deepasmr.errors import ModelFilesError
from deepasmr.lm import lm_preset
from deepasmr.lm.config import UNK_SYMBOL, UNK_TEXT
from deepasmr.lm.text import PhoneTokenizer, text_tokenizer


def test_phone_vocabulary_is_stable_and_maps_unknowns_to_unk():
    symbols = PhoneTokenizer.vocabulary([["b", "a"], ["a", "k"]])
    cfg = lm_preset("tiny").with_phones(symbols)
    assert cfg.phones == [UNK_SYMBOL, "a", "b", "k"]
    assert cfg.text_vocab_size == len(cfg.phones)
    tok = text_tokenizer(cfg)
    assert tok.encode_phones(["k", "a", "zz"]) == [3, 1, UNK_TEXT]


def test_phone_tokenizer_uses_the_frontend():
    pytest.importorskip("deepasmr.frontend")
    from deepasmr.frontend import phonemize

    phones = phonemize("Hello there.", "en")
    tok = PhoneTokenizer([UNK_SYMBOL, *PhoneTokenizer.vocabulary([phones])])
    ids = tok.encode("Hello there.", "en")
    assert UNK_TEXT not in ids and tok.decode(ids) == phones


def test_missing_vocabulary_is_a_clear_error():
    with pytest.raises(ModelFilesError):
        text_tokenizer(lm_preset("tiny"))
