"""The pipeline's use of the ASR backend (deepasmr.eval.asr): the words of a clip, checked and cached.

Two callers: an intra-style task whose clip has no transcript (the transcript becomes the LM's task-prompt
text), and `convert` (the words to re-speak). Models are the shipped ones (Whisper tiny.en for English,
multilingual Whisper base for Mandarin) unless SpeakConfig.asr_model names another; nothing is downloaded.

A transcript is refused (TextError) when it is empty, cannot be spoken (check_text), or has more words per
second than speech has: tiny.en loops on some whispered clips, and a loop is not the clip's words.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass

import numpy as np

from deepasmr.errors import DeepASMRError, TextError
from deepasmr.pipeline.config import SpeakConfig

# What "the ASR is unavailable or failed" looks like: missing wheels or model files (ModelFilesError,
# ImportError), a CTranslate2 failure (RuntimeError, OSError), an unusable transcript (TextError).
ASR_FAILURES = (DeepASMRError, ImportError, OSError, RuntimeError, ValueError)
_HAN = re.compile(r"[\u4e00-\u9fff]")
# Mandarin is counted in characters; about two characters take the time of one English word.
ZH_CHARS_PER_WORD = 2.0


@dataclass(frozen=True)
class Transcript:
    text: str
    model: str  # the ASR model spec that heard it ("tiny.en", "base", a folder, "module:attr")
    language: str


def asr_model_name(config: SpeakConfig, language: str) -> str:
    from deepasmr.eval.asr import DEFAULT_MODELS

    return config.asr_model or DEFAULT_MODELS.get(language, "base")


def _words(text: str, language: str) -> float:
    if language == "zh":
        return len(_HAN.findall(text)) / ZH_CHARS_PER_WORD + len(re.findall(r"[A-Za-z]+", text))
    return float(len(text.split()))


def transcribe(wav: np.ndarray, sr: int, language: str, config: SpeakConfig) -> Transcript:
    """The words of a validated clip (mono float32 at `sr`); ASR_FAILURES when they cannot be had."""
    from deepasmr.audio import resample
    from deepasmr.eval.asr import ASR_SAMPLE_RATE, get_backend
    from deepasmr.pipeline.text import check_text

    model = asr_model_name(config, language)
    backend = get_backend(config.asr_model, language)
    text = backend.transcribe(resample(np.asarray(wav, dtype=np.float32), sr, ASR_SAMPLE_RATE), language)
    text = " ".join(str(text).split())
    if not text:
        raise TextError(f"ASR {model} heard no words in the clip")
    seconds = wav.size / sr
    rate = _words(text, language) / max(seconds, 1e-3)
    if rate > config.max_words_per_second:
        raise TextError(f"ASR {model} gave {rate:.1f} words/s over {seconds:.1f} s (a decoding loop, not speech)")
    text, _ = check_text(text, language, config)
    return Transcript(text=text, model=model, language=language)


class TranscriptCache:
    """transcribe() memoised by (clip samples, rate, language, model): a batch or a server asks for the
    same voice clip's words again and again. Failures are cached too (a missing model stays missing)."""

    def __init__(self, max_items: int = 64):
        self.max_items = max_items
        self._items: dict[tuple, Transcript | tuple[type, str]] = {}
        self._lock = threading.Lock()

    def get(self, wav: np.ndarray, sr: int, language: str, config: SpeakConfig) -> Transcript:
        digest = hashlib.sha1(np.ascontiguousarray(wav, dtype=np.float32).tobytes()).hexdigest()
        key = (digest, sr, language, asr_model_name(config, language), config.max_words_per_second)
        with self._lock:
            hit = self._items.get(key)
        if hit is None:
            try:
                hit = transcribe(wav, sr, language, config)
            except ASR_FAILURES as err:
                # Keep the reason, not the exception (its traceback holds frames and their arrays).
                hit = (type(err), str(err)) if isinstance(err, DeepASMRError) else (
                    DeepASMRError, f"{type(err).__name__}: {err}")
            with self._lock:
                if len(self._items) >= self.max_items:
                    self._items.pop(next(iter(self._items)))
                self._items[key] = hit
        if isinstance(hit, tuple):
            raise hit[0](hit[1])
        return hit
