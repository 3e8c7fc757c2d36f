"""WER/CER: text normalisation, capped errors, and the shipped Whisper models on real synthesised speech."""

from __future__ import annotations

import math

import pytest
from eval_synth import SENTENCES, ZH_TEXT

from deepasmr.errors import ModelFilesError
from deepasmr.eval.asr import error_rate, get_backend, resolve_model_dir, transcribe_file, utterance_errors
from deepasmr.eval.text import int_to_words, normalize_en, normalize_zh


def test_normalize_en():
    assert normalize_en("Don't pay 5 dollars, OK?!") == "dont pay five dollars ok"
    assert normalize_en("In 1984, 3.5% of 2,000 rock-and-roll fans") == (
        "in nineteen eighty four three point five percent of two thousand rock and roll fans"
    )
    assert int_to_words(101) == "one hundred one"
    # Whisper hallucinating on babble wrote "1.2.3": scoring must read it, not crash (it did, session 7).
    assert normalize_en("version 1.2.3") == "version one point two point three"


def test_normalize_zh_simplifies_and_strips():
    assert normalize_zh("我們說：你好，世界！ 3") == "我们说你好世界三"


def test_capped_errors():
    loop = utterance_errors("hello there", "hello there " + "there " * 20, "en")
    assert loop["errors"] == 20 and loop["errors_capped"] == 2
    exact = utterance_errors("Hello, there!", "hello there", "en")
    rates = error_rate([loop, exact])
    assert rates["rate"] == pytest.approx(20 / 4)
    assert rates["rate_capped"] == pytest.approx(2 / 4)
    cer = utterance_errors("你好世界", "你好世", "zh")
    assert (cer["n_ref"], cer["errors"]) == (4, 1)


def test_tiny_en_on_flite(clips, tiny_en):
    rows = []
    for name, key in (("slt_a", "a"), ("slt_b", "b"), ("awb_c", "c")):
        hyp = transcribe_file(clips[name], "en", tiny_en)
        rows.append(utterance_errors(SENTENCES[key], hyp, "en"))
    assert error_rate(rows)["rate"] <= 0.35, rows


def test_zh_cer_path_runs(clips):
    backend = get_backend(None, "zh")  # multilingual base, joined from the two wheel halves
    hyp = transcribe_file(clips["zh"], "zh", backend)
    assert hyp.strip()
    row = utterance_errors(ZH_TEXT, hyp, "zh")
    assert math.isfinite(error_rate([row])["rate"])


def test_english_only_model_refuses_zh(clips, tiny_en):
    with pytest.raises(ModelFilesError):
        transcribe_file(clips["zh"], "zh", tiny_en)


def test_missing_model_files(tmp_path):
    with pytest.raises(ModelFilesError, match="never downloaded"):
        resolve_model_dir("large-v3")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelFilesError, match="model.bin"):
        resolve_model_dir(str(tmp_path))
    with pytest.raises(ModelFilesError):
        get_backend("no_such_module_xyz:factory", "en")
