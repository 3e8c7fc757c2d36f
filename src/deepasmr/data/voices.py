"""Base voices: the Debian synthesizers we render from, and how to call each one.

espeak-ng (22.05 kHz): English dialects with voice variants (m1..m7, f1..f5 ...), Mandarin through
`cmn-latn-pinyin` fed tone-numbered pinyin (Debian's 1.51 reads Hanzi/tone digits badly otherwise), and its
native `+whisper`/`+whisperf` variants, which are real whispered (unvoiced) speech.
flite (16 kHz): kal16, awb, rms, slt.  festival (16 / 32 kHz): kal_diphone, cmu_us_slt_arctic_hts.
Each call renders to a temp wav and reads it back; festival renders a whole batch in one process because
its start-up costs more than a sentence.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from deepasmr.errors import DataError

# A synthesizer that hangs on odd text must not stall the whole build.
RENDER_TIMEOUT_S = 120


@dataclass(frozen=True)
class BaseVoice:
    key: str  # short stable name used in speaker ids, e.g. "fl-slt"
    engine: str  # "espeak" | "flite" | "festival"
    voice: str  # the engine's own voice name
    language: str  # "en" | "zh"
    gender: str  # "male" | "female"

    @property
    def has_native_whisper(self) -> bool:
        return self.engine == "espeak"

    def whisper_voice(self) -> str:
        """espeak voice string of this voice's language with the whisper variant of its gender."""
        lang = self.voice.split("+")[0]
        return f"{lang}+{'whisperf' if self.gender == 'female' else 'whisper'}"


def _espeak_en(key: str, dialect: str, variant: str) -> BaseVoice:
    gender = "female" if variant.startswith("f") else "male"
    return BaseVoice(f"es-{key}", "espeak", f"{dialect}+{variant}", "en", gender)


def _espeak_zh(variant: str) -> BaseVoice:
    gender = "female" if variant.startswith("f") else "male"
    return BaseVoice(f"es-zh{variant}", "espeak", f"cmn-latn-pinyin+{variant}", "zh", gender)


BASE_VOICES: tuple[BaseVoice, ...] = (
    BaseVoice("fl-kal", "flite", "kal16", "en", "male"),
    BaseVoice("fl-awb", "flite", "awb", "en", "male"),
    BaseVoice("fl-rms", "flite", "rms", "en", "male"),
    BaseVoice("fl-slt", "flite", "slt", "en", "female"),
    BaseVoice("fe-kal", "festival", "kal_diphone", "en", "male"),
    BaseVoice("fe-slt", "festival", "cmu_us_slt_arctic_hts", "en", "female"),
    _espeak_en("usm1", "en-us", "m1"),
    _espeak_en("usf2", "en-us", "f2"),
    _espeak_en("gbm3", "en-gb", "m3"),
    _espeak_en("gbf4", "en-gb", "f4"),
    _espeak_en("scm7", "en-gb-scotland", "m7"),
    _espeak_en("caf1", "en-029", "f1"),
    _espeak_en("nym2", "en-us-nyc", "m2"),
    _espeak_en("rpf5", "en-gb-x-rp", "f5"),
    _espeak_en("usm6", "en-us", "m6"),
    _espeak_en("gbf3", "en-gb", "f3"),
    *(_espeak_zh(v) for v in ("m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "f4", "f5")),
)
BASE_BY_KEY = {b.key: b for b in BASE_VOICES}


def _read(path: Path, what: str) -> tuple[np.ndarray, int]:
    if not path.is_file() or path.stat().st_size == 0:
        raise DataError(f"{what}: the synthesizer wrote no audio")
    wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return wav.mean(axis=1), int(sr)


def _run(cmd: list[str], what: str, stdin: str | None = None) -> None:
    try:
        subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True, timeout=RENDER_TIMEOUT_S)
    except FileNotFoundError:
        raise DataError(f"{what}: {cmd[0]} is not installed (run scripts/setup.sh)") from None
    except subprocess.CalledProcessError as err:
        raise DataError(f"{what}: {cmd[0]} failed: {err.stderr.strip()[:200]}") from None


def _festival_string(text: str) -> str:
    return text.replace("\\", " ").replace('"', "")


def render(base: BaseVoice, texts: Sequence[str], whisper: bool = False) -> list[tuple[np.ndarray, int]]:
    """Render each text (already normalised; pinyin for Mandarin) with `base`; whisper needs espeak."""
    if whisper and not base.has_native_whisper:
        raise DataError(f"{base.key}: {base.engine} has no native whisper voice")
    out = []
    with tempfile.TemporaryDirectory(prefix="deepasmr-tts-") as tmp:
        paths = [Path(tmp) / f"{i}.wav" for i in range(len(texts))]
        if base.engine == "festival":
            lines = [f"(voice_{base.voice})"]
            lines += [
                f'(utt.save.wave (utt.synth (Utterance Text "{_festival_string(t)}")) "{p}" \'riff)'
                for t, p in zip(texts, paths, strict=True)
            ]
            script = Path(tmp) / "batch.scm"
            script.write_text("\n".join(lines) + "\n", encoding="utf-8")
            _run(["festival", "-b", str(script)], base.key)
        for text, path in zip(texts, paths, strict=True):
            if base.engine == "espeak":
                voice = base.whisper_voice() if whisper else base.voice
                _run(["espeak-ng", "-v", voice, "-w", str(path), "--stdin"], base.key, stdin=text)
            elif base.engine == "flite":
                _run(["flite", "-voice", base.voice, "-t", text, "-o", str(path)], base.key)
            out.append(_read(path, f"{base.key} {text[:30]!r}"))
    return out
