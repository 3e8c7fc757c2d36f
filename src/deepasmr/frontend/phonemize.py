"""Text -> phone symbols through phonemizer's espeak backend, in-process.

The libespeak-ng and its data come from the `espeakng-loader` wheel, so no Debian package is needed and
the phone set does not drift with the system's espeak version. English uses `en-us` with stress marks;
Mandarin is converted to tone-numbered pinyin first (see pinyin.py) and read by `cmn-latn-pinyin`, whose
output keeps a tone digit on each final. Word boundaries and punctuation are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from deepasmr.errors import TextError
from deepasmr.frontend.normalize import LANGUAGES, normalize_text

ESPEAK_VOICES = {"en": "en-us", "zh": "cmn-latn-pinyin"}
_WORD_SEP = " _ "
_backends: dict[str, object] = {}


def _backend(language: str):
    if language not in LANGUAGES:
        raise TextError(f"unsupported language {language!r}: expected one of {', '.join(LANGUAGES)}")
    if language not in _backends:
        import espeakng_loader
        from phonemizer.backend import EspeakBackend
        from phonemizer.backend.espeak.wrapper import EspeakWrapper

        EspeakWrapper.set_library(espeakng_loader.get_library_path())
        EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
        _backends[language] = EspeakBackend(
            ESPEAK_VOICES[language], with_stress=(language == "en"), preserve_punctuation=False,
            language_switch="remove-flags",
        )
    return _backends[language]


def phonemize_batch(texts: Sequence[str], language: str, *, normalize: bool = True) -> list[list[str]]:
    """Phonemize many lines in one espeak call (thousands per second); one phone list per line."""
    from phonemizer.separator import Separator

    backend = _backend(language)
    lines = [normalize_text(t, language) if normalize else t for t in texts]
    if language == "zh":
        from deepasmr.frontend.pinyin import to_pinyin

        lines = [to_pinyin(t) for t in lines]
    sep = Separator(phone=" ", word=_WORD_SEP, syllable="")
    out = backend.phonemize(lines, separator=sep, strip=True, njobs=1)
    return [[p for p in line.split() if p != _WORD_SEP.strip()] for line in out]


def phonemize(text: str, language: str) -> list[str]:
    """Phone symbols of one text in "en" or "zh"; TextError for another language or nothing to say."""
    phones = phonemize_batch([text], language)[0]
    if not phones:
        raise TextError(f"no pronounceable words in {text[:40]!r} ({language})")
    return phones
