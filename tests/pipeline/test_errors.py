"""Bad inputs get clear DeepASMRError subclasses; the CLI exits 2 and writes nothing."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from deepasmr.errors import AudioError, ModelFilesError, TextError
from deepasmr.pipeline.config import SpeakError

SR = 16_000
TEXT = "Hello there, my friend."


@pytest.fixture(scope="module")
def bad_clips(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("bad_clips")
    rng = np.random.default_rng(0)
    clips = {"silent": np.zeros(SR * 2, np.float32), "too_short": 0.3 * rng.standard_normal(SR // 5),
             "too_long": 0.3 * rng.standard_normal(SR * 61)}
    out = {}
    for name, wav in clips.items():
        out[name] = d / f"{name}.wav"
        sf.write(out[name], wav.astype(np.float32), SR)
    out["corrupt"] = d / "corrupt.wav"
    out["corrupt"].write_bytes(b"RIFF\x00\x00not really a wav file" + rng.bytes(200))
    out["missing"] = d / "nope.wav"
    return out


@pytest.mark.parametrize("text, lang", [("", None), ("   ", None), ("a" * 10_000, None),
                                        ("こんにちは、お元気ですか。", None), (TEXT, "fr"), ("?! ... --", None)])
def test_bad_text(engine, voice_clip, text, lang):
    with pytest.raises(TextError):
        engine.speak(text, voice=voice_clip, style="asmr", lang=lang)


@pytest.mark.parametrize("name", ["silent", "too_short", "too_long", "corrupt", "missing"])
def test_bad_clip(engine, bad_clips, name):
    with pytest.raises(AudioError):
        engine.speak(TEXT, voice=bad_clips[name], style="asmr")


def test_bad_clip_array(engine):
    with pytest.raises(AudioError):
        engine.speak(TEXT, voice=(np.zeros(SR, np.float32), SR), style="asmr")


@pytest.mark.parametrize("kwargs", [dict(style="whisper"), dict(style="asmr", iterations=0),
                                    dict(style="asmr", steps=0), dict(style="asmr", prompt_style="loud")])
def test_bad_options(engine, voice_clip, kwargs):
    with pytest.raises(SpeakError):
        engine.speak(TEXT, voice=voice_clip, **kwargs)


def test_missing_model_files_are_named(tmp_path, bundle_dir):
    from deepasmr.pipeline import DeepASMR

    partial = tmp_path / "partial"
    shutil.copytree(bundle_dir, partial)
    for name in ("lm.json", "lm.safetensors", "flow.safetensors"):
        (partial / name).unlink()
    with pytest.raises(ModelFilesError) as err:
        DeepASMR.load(partial)
    msg = str(err.value)
    assert "lm.json" in msg and "lm.safetensors" in msg and "flow.safetensors" in msg
    assert "flow.json" not in msg and "deepasmr train lm" in msg
    with pytest.raises(ModelFilesError):
        DeepASMR.load(tmp_path / "no_such_bundle")


def test_default_model_dir_honours_env(monkeypatch, tmp_path):
    from deepasmr.pipeline import default_model_dir

    monkeypatch.setenv("DEEPASMR_MODEL", str(tmp_path))
    assert default_model_dir() == tmp_path
    monkeypatch.delenv("DEEPASMR_MODEL")
    assert default_model_dir().parts[-2:] == ("models", "tiny")


def test_bad_prompt_text(engine, voice_clip):
    with pytest.raises(TextError):
        engine.speak(TEXT, voice=voice_clip, style="normal", prompt_text="こんにちは")


# -- convert -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["silent", "too_short", "too_long", "corrupt", "missing"])
def test_convert_bad_input_clip(engine, bad_clips, name):
    from deepasmr.pipeline.convert import convert

    with pytest.raises(AudioError):
        convert(engine, bad_clips[name], "asmr")


def test_convert_bad_voice_clip(engine, voice_clip, bad_clips):
    from deepasmr.pipeline.convert import convert

    with pytest.raises(AudioError):
        convert(engine, voice_clip, "asmr", voice=bad_clips["silent"])


@pytest.mark.parametrize("kwargs, error", [(dict(style="whisper"), SpeakError), (dict(words="guess"), SpeakError),
                                           (dict(lang="fr"), TextError), (dict(iterations=0), SpeakError)])
def test_convert_bad_options(engine, voice_clip, kwargs, error):
    from deepasmr.pipeline.convert import convert

    with pytest.raises(error):
        convert(engine, voice_clip, **{"style": "asmr", **kwargs})


@pytest.mark.parametrize("case", ["clip", "voice", "lang", "model", "suffix"])
def test_cli_convert_bad_input_exits_2_and_writes_nothing(bundle_dir, voice_clip, bad_clips, tmp_path, capsys,
                                                          case):
    import deepasmr.cli

    clip, model, extra, out = str(voice_clip), bundle_dir, [], tmp_path / "out" / "x.wav"
    if case == "clip":
        clip = str(bad_clips["corrupt"])
    elif case == "voice":
        extra = ["--voice", str(bad_clips["too_short"])]
    elif case == "lang":
        extra = ["--lang", "fr"]
    elif case == "model":
        model = tmp_path / "partial"
        shutil.copytree(bundle_dir, model)
        (model / "lm.safetensors").unlink()
    elif case == "suffix":
        out = tmp_path / "out" / "x.mp3"
    rc = deepasmr.cli.main(["convert", clip, "--style", "asmr", "-o", str(out), "--model", str(model), *extra])
    assert rc == 2
    assert "deepasmr: error:" in capsys.readouterr().err
    assert not out.exists() and not out.parent.exists()


# -- batch: whole-batch problems fail before anything is written (bad lines: test_batch.py) ----------------


@pytest.mark.parametrize("case", ["no_lines_file", "blank_lines", "not_utf8", "voice", "style", "steps", "model",
                                  "prompt_text"])
def test_batch_bad_input_writes_nothing(engine, bundle_dir, voice_clip, bad_clips, tmp_path, case):
    from deepasmr.errors import DataError, DeepASMRError
    from deepasmr.pipeline.batch import BatchJob, run_batch

    lines = tmp_path / "lines.txt"
    lines.write_text(f"{TEXT}\n", encoding="utf-8")
    job, use_engine = dict(voice=str(voice_clip)), engine
    expected = {"no_lines_file": DataError, "blank_lines": DataError, "not_utf8": DataError, "voice": AudioError,
                "style": SpeakError, "steps": SpeakError, "model": ModelFilesError, "prompt_text": TextError}[case]
    if case == "no_lines_file":
        lines = tmp_path / "none.txt"
    elif case == "blank_lines":
        lines.write_text("\n  \n\n")
    elif case == "not_utf8":
        lines.write_bytes(b"\xff\xfe\x00bad")
    elif case == "voice":
        job["voice"] = str(bad_clips["silent"])
    elif case == "style":
        job["style"] = "whisper"
    elif case == "steps":
        job["steps"] = 0
    elif case == "model":
        partial = tmp_path / "partial"
        shutil.copytree(bundle_dir, partial, ignore=shutil.ignore_patterns("flow.*"))
        job["model"], use_engine = str(partial), None
    elif case == "prompt_text":
        job["prompt_text"] = "こんにちは"
    out = tmp_path / "out"
    with pytest.raises(expected) as err:
        run_batch(lines, out, BatchJob(**job), engine=use_engine, progress=False)
    assert isinstance(err.value, DeepASMRError)
    assert not out.exists()


def test_bundle_carries_its_own_vocoder(tmp_path, bundle_dir):
    """A relative vocoder path in bundle.json is read from the bundle folder, wherever the bundle moved; a
    missing folder is a ModelFilesError naming it."""
    import json

    from deepasmr.pipeline.bundle import load_bundle
    from deepasmr.vocoder.vocos import VOCOS_PRESETS, VocosGenerator, save_vocos

    moved = tmp_path / "moved"
    shutil.copytree(bundle_dir, moved)
    save_vocos(VocosGenerator(VOCOS_PRESETS["tiny"]), moved / "vocoder")
    meta_path = moved / "bundle.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    meta_path.write_text(json.dumps({**meta, "vocoder": {"kind": "vocos", "weights": "vocoder"}}))
    bundle = load_bundle(moved)
    assert type(bundle.vocoder).__name__ == "VocosVocoder" and bundle.sample_rate == 22_050
    shutil.rmtree(moved / "vocoder")
    with pytest.raises(ModelFilesError, match="vocoder"):
        load_bundle(moved)


def test_bad_speak_settings_are_named(engine):
    from dataclasses import replace

    from deepasmr.pipeline import DeepASMR
    from deepasmr.pipeline.config import DEFAULT_SPEAK, speak_config

    assert speak_config("fp32").precision == "fp32"
    assert speak_config("fp32", temperature=None).temperature == DEFAULT_SPEAK.temperature  # None = the default
    with pytest.raises(SpeakError, match="precision must be one of auto, fp32, bf16, not 'half'"):
        speak_config("half")
    with pytest.raises(SpeakError, match="precision must be one of"):
        DeepASMR(engine.bundle, replace(engine.config, precision="half"))
    with pytest.raises(SpeakError, match="max_prompt_seconds must be > 0, not 0"):
        speak_config("fp32", max_prompt_seconds=0)
    with pytest.raises(SpeakError, match="temperature must be > 0, not 0"):
        speak_config("fp32", temperature=0)
    with pytest.raises(SpeakError, match=r"top_p must be in \(0, 1\], not 1.5"):
        speak_config("fp32", top_p=1.5)
    with pytest.raises(SpeakError, match="candidates must be a whole number >= 1, not 0"):
        speak_config("fp32", candidates=0)
    with pytest.raises(SpeakError, match="phone guidance must be >= 0, not -1"):
        speak_config("fp32", phone_cfg_strength=-1)
