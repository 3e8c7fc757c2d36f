"""`convert`: the words of a clip (ASR, or the tokenizer's CTC phone head) re-spoken in another style, through
the real tiny bundle (untrained LM/flow: wiring, not quality) and the shipped Whisper tiny.en."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

import deepasmr.cli
from deepasmr.errors import ModelFilesError
from deepasmr.pipeline import DeepASMR, SpeakConfig
from deepasmr.pipeline.convert import MAX_CTC_PHONES, convert, ctc_phones

STEPS = 2


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    """A short normal-voice clip (flite slt): little to transcribe and little to synthesise."""
    path = tmp_path_factory.mktemp("convert") / "slt.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", "Good night, sleep well.", "-o", str(path)], check=True,
                   capture_output=True)
    return path


@pytest.fixture(scope="module")
def no_asr_engine(engine, tmp_path_factory):
    """The same bundle with the ASR pointed at a folder that holds no model: 'ASR unavailable'."""
    missing = tmp_path_factory.mktemp("no_asr") / "nothing-here"
    return DeepASMR(engine.bundle, SpeakConfig(asr_model=str(missing)))


def test_convert_by_asr_respeaks_the_input_in_its_own_voice(engine, short_clip):
    result = convert(engine, short_clip, "asmr", seed=0, steps=STEPS)
    assert result.words_source == "asr:tiny.en" and result.voice == "input"
    assert "night" in result.words.lower() and "sleep" in result.words.lower()
    speech = result.speech
    assert speech.task == "N2A" and speech.route["speaker_prompt"] == str(short_clip)
    assert speech.route["mode"] == "virtual"  # cross-style: the task prompt is a pool entry
    assert any("words of the input by ASR tiny.en" in n for n in speech.notes)
    assert result.wav.dtype == np.float32 and result.wav.size > 0 and np.all(np.isfinite(result.wav))
    assert result.to_dict()["words_source"] == "asr:tiny.en"


def test_intra_style_convert_uses_its_own_words_as_the_task_prompt(engine, short_clip):
    result = convert(engine, short_clip, "normal", seed=0, steps=STEPS)
    speech = result.speech
    assert speech.task == "N2N" and speech.route["mode"] == "self"
    assert speech.route["task_prompt"]["text"] == result.words
    # The transcript was had once, for the words; no prompt-free input and no second transcription note.
    assert not any("prompt-free" in n or "prompt text transcribed" in n for n in speech.notes)


def test_convert_in_another_voice(engine, short_clip, whisper_clip):
    result = convert(engine, short_clip, "normal", voice=whisper_clip, seed=0, steps=STEPS)
    assert result.voice == str(whisper_clip)
    assert result.speech.task == "A2N" and result.speech.route["speaker_prompt"] == str(whisper_clip)


def test_ctc_words_when_the_asr_is_unavailable(no_asr_engine, short_clip):
    result = convert(no_asr_engine, short_clip, "asmr", seed=0, steps=STEPS)
    assert result.words_source == "ctc"
    notes = " | ".join(result.speech.notes)
    assert "ASR could not give the input's words" in notes and "CTC phone head" in notes
    assert result.words and np.all(np.isfinite(result.wav)) and result.wav.size > 0
    with pytest.raises(ModelFilesError):  # words="asr" insists on the ASR
        convert(no_asr_engine, short_clip, "asmr", words="asr")


def test_ctc_phones_fit_the_lm_phone_vocabulary(engine, short_clip):
    from deepasmr.audio import load_audio

    wav, _ = load_audio(short_clip, engine.bundle.mel_config.sample_rate)
    phones = ctc_phones(engine, wav)
    assert 0 < len(phones) <= MAX_CTC_PHONES
    known = set(engine.bundle.text_tokenizer.symbols)
    assert sum(p in known for p in phones) / len(phones) > 0.8


def test_cli_convert_writes_audio_and_summary(bundle_dir, short_clip, tmp_path, capsys):
    out = tmp_path / "o" / "converted.wav"
    rc = deepasmr.cli.main(["convert", str(short_clip), "--style", "asmr", "-o", str(out), "--seed", "1",
                            "--steps", str(STEPS), "--model", str(bundle_dir)])
    assert rc == 0
    assert sf.info(out).frames > 0
    printed = capsys.readouterr().out
    assert '"words_source": "asr:tiny.en"' in printed and '"task": "N2A"' in printed
