"""A missing prompt transcript: transcribed by the ASR backend (Whisper tiny.en here), else prompt-free LM input."""

from __future__ import annotations

import pytest

from deepasmr.errors import ModelFilesError, TextError
from deepasmr.pipeline import DeepASMR, SpeakConfig
from deepasmr.pipeline.transcribe import TranscriptCache, transcribe

TEXT = "Hi there."


def test_intra_style_clip_is_transcribed_for_the_task_prompt(engine, voice_clip):
    result = engine.speak_detailed(TEXT, voice_clip, "normal", seed=0, steps=2)
    assert result.task == "N2N"
    heard = result.route["task_prompt"]["text"]
    assert heard and "lake" in heard.lower()
    assert any(n.startswith("prompt text transcribed by ASR tiny.en") for n in result.notes)
    assert not any("prompt-free" in n for n in result.notes)


def test_transcription_off_gives_prompt_free_input(engine, voice_clip):
    off = DeepASMR(engine.bundle, SpeakConfig(transcribe_prompt=False))
    result = off.speak_detailed(TEXT, voice_clip, "normal", seed=0, steps=2)
    assert result.route["task_prompt"]["text"] is None
    assert any("prompt-free" in n and "off" in n for n in result.notes)
    # The per-request switch overrides the config (here: back on).
    again = off.speak_detailed(TEXT, voice_clip, "normal", seed=0, steps=2, transcribe_prompt=True)
    assert any(n.startswith("prompt text transcribed") for n in again.notes)


def test_unavailable_asr_falls_back_to_prompt_free_input(engine, voice_clip, tmp_path):
    broken = DeepASMR(engine.bundle, SpeakConfig(asr_model=str(tmp_path / "no-model")))
    result = broken.speak_detailed(TEXT, voice_clip, "normal", seed=0, steps=2)
    note = next(n for n in result.notes if "prompt-free" in n)
    assert "ASR failed" in note and "no-model" in note
    assert result.wav.size > 0


def test_given_prompt_text_is_not_transcribed(engine, voice_clip):
    result = engine.speak_detailed(TEXT, voice_clip, "normal", seed=0, steps=2, prompt_text="The little boat.")
    assert result.route["task_prompt"]["text"] == "The little boat."
    assert not any("transcribed" in n or "prompt-free" in n for n in result.notes)


def test_cache_keeps_transcripts_and_failures(voice_clip, tmp_path):
    from deepasmr.audio import load_audio

    wav, sr = load_audio(voice_clip)
    cache = TranscriptCache()
    a = cache.get(wav, sr, "en", SpeakConfig())
    assert cache.get(wav, sr, "en", SpeakConfig()) is a
    broken = SpeakConfig(asr_model=str(tmp_path / "none"))
    for _ in range(2):
        with pytest.raises(ModelFilesError, match="none"):
            cache.get(wav, sr, "en", broken)


def test_a_decoding_loop_is_not_a_transcript(voice_clip):
    from deepasmr.audio import load_audio

    wav, sr = load_audio(voice_clip)
    # ~8 words in ~3 s is ~2.7 words/s; a limit of 1 word/s calls that a loop.
    with pytest.raises(TextError, match="loop"):
        transcribe(wav, sr, "en", SpeakConfig(max_words_per_second=1.0))
