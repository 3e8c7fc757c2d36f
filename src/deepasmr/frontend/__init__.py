"""Text frontend: normalisation (numbers to words), language detection, sentence splitting, G2P."""

from deepasmr.frontend.language import detect_language, split_sentences
from deepasmr.frontend.normalize import LANGUAGES, normalize_text
from deepasmr.frontend.phonemize import phonemize, phonemize_batch
from deepasmr.frontend.pinyin import to_pinyin

__all__ = [
    "LANGUAGES",
    "detect_language",
    "normalize_text",
    "phonemize",
    "phonemize_batch",
    "split_sentences",
    "to_pinyin",
]
