"""Registry, the explicit Griffin-Lim debugging kind, and the `deepasmr vocode` command."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
import torch

from deepasmr.cli import main
from deepasmr.vocoder import VocoderConfig, load_vocoder, register_vocoder, vocoder_kinds


def test_builtin_kinds():
    assert {"hifigan", "vocos", "griffinlim"} <= set(vocoder_kinds())


def test_unknown_kind_is_an_error_not_a_fallback():
    with pytest.raises(ValueError, match="unknown vocoder kind"):
        load_vocoder("wavenet")


def test_register_a_new_kind():
    sentinel = object()

    @register_vocoder("test-dummy")
    def _build(config):
        return sentinel

    assert load_vocoder(VocoderConfig(kind="test-dummy")) is sentinel


def test_griffinlim_only_when_asked():
    vocoder = load_vocoder(VocoderConfig(kind="griffinlim", options={"n_iter": 2}))
    assert vocoder.kind == "griffinlim"
    assert vocoder.generate(torch.full((80, 12), -4.0)).shape == (12 * 256,)


def test_vocode_command(clip, tmp_path, capsys):
    _, path = clip("flite_kal16")
    assert main(["vocode", str(path), "-o", str(tmp_path / "out"), "--json", "--threads", "1"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    written, sr = sf.read(record["output"])
    assert sr == 22_050 and written.size > 0
    assert record["mel_l1"] < 0.45


def test_vocode_command_reports_missing_input(tmp_path, capsys):
    assert main(["vocode", str(tmp_path / "missing.wav"), "-o", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
