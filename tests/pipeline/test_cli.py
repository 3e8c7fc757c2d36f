"""`deepasmr speak` through the real CLI entry point."""

from __future__ import annotations

import shutil

import pytest
import soundfile as sf

import deepasmr.cli


@pytest.fixture
def run():
    return deepasmr.cli.main


def test_cli_writes_audio_and_plot(run, bundle_dir, voice_clip, tmp_path, capsys):
    out = tmp_path / "o" / "speech.wav"
    rc = run(["speak", "Soft rain falls on the roof.", "--voice", str(voice_clip), "--style", "asmr", "-o",
              str(out), "--seed", "1", "--steps", "2", "--plot", "--model", str(bundle_dir)])
    assert rc == 0
    info = sf.info(out)
    assert info.samplerate == 22_050 and info.frames > 0
    assert out.with_suffix(".png").is_file()
    assert '"task": "N2A"' in capsys.readouterr().out


@pytest.mark.parametrize("case", ["empty", "long", "lang", "japanese", "clip", "model"])
def test_cli_bad_input_exits_2_and_writes_nothing(run, bundle_dir, voice_clip, tmp_path, capsys, case):
    text, voice, model, extra = "Soft rain falls.", str(voice_clip), bundle_dir, []
    if case == "empty":
        text = ""
    elif case == "long":
        text = "word " * 2_000
    elif case == "lang":
        extra = ["--lang", "fr"]
    elif case == "japanese":
        text = "こんにちは"
    elif case == "clip":
        voice = str(tmp_path / "missing.wav")
    elif case == "model":
        model = tmp_path / "partial"
        shutil.copytree(bundle_dir, model)
        (model / "flow.json").unlink()
    out = tmp_path / "out" / "x.wav"
    rc = run(["speak", text, "--voice", voice, "-o", str(out), "--model", str(model), *extra])
    assert rc == 2
    assert "deepasmr: error:" in capsys.readouterr().err
    assert not out.exists() and not out.parent.exists()
