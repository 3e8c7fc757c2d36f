"""Load, check, trim, normalise and save audio. Every failure is an `AudioError` naming the file."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from deepasmr.atomic import atomic_write
from deepasmr.errors import AudioError

SAVE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


@dataclass(frozen=True)
class AudioLimits:
    """What a usable clip looks like. Durations are measured after trimming silence."""

    min_seconds: float = 0.5
    max_seconds: float = 60.0
    min_sample_rate: int = 4_000
    max_sample_rate: int = 384_000
    # A clip whose peak stays below this is "silent": nothing to learn a voice from.
    silence_peak_dbfs: float = -50.0
    # librosa.effects.trim: frames this far below the clip's peak count as silence.
    trim_top_db: float = 40.0


DEFAULT_LIMITS = AudioLimits()


def _read(path: Path) -> tuple[np.ndarray, int]:
    try:
        wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        # soundfile's libsndfile reads wav/flac/ogg/mp3; fall back to audioread for other codecs.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # librosa warns on every audioread fallback
                mono, sr = librosa.load(str(path), sr=None, mono=True)
        except Exception:  # any decoder failure means the same thing to the user
            raise AudioError(f"{path}: not a readable audio file ({err})") from None
        return mono.astype(np.float32), int(sr)
    return wav.mean(axis=1), int(sr)


def validate_audio(wav: np.ndarray, sr: int, name: str = "audio", limits: AudioLimits = DEFAULT_LIMITS) -> None:
    """Raise AudioError when `wav` is empty, non-finite, silent, or outside the duration limits."""
    if not (limits.min_sample_rate <= sr <= limits.max_sample_rate):
        raise AudioError(
            f"{name}: sample rate {sr} Hz is outside {limits.min_sample_rate}-{limits.max_sample_rate} Hz"
        )
    if wav.size == 0:
        raise AudioError(f"{name}: the file holds no samples")
    if not np.all(np.isfinite(wav)):
        raise AudioError(f"{name}: samples contain NaN or infinity (corrupt file?)")
    peak = float(np.max(np.abs(wav)))
    if peak <= 10 ** (limits.silence_peak_dbfs / 20):
        raise AudioError(f"{name}: the clip is silent (peak below {limits.silence_peak_dbfs:.0f} dBFS)")
    seconds = wav.size / sr
    if seconds < limits.min_seconds:
        raise AudioError(f"{name}: {seconds:.2f} s of speech is shorter than {limits.min_seconds} s")
    if seconds > limits.max_seconds:
        raise AudioError(f"{name}: {seconds:.1f} s is longer than the {limits.max_seconds:.0f} s maximum")


def load_audio(
    path: str | os.PathLike,
    sample_rate: int | None = None,
    *,
    trim: bool = True,
    normalize: bool = False,
    limits: AudioLimits = DEFAULT_LIMITS,
) -> tuple[np.ndarray, int]:
    """Read `path` as mono float32, optionally resampled, trimmed and loudness-normalised; validated."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty")
    wav, sr = _read(path)
    if not (limits.min_sample_rate <= sr <= limits.max_sample_rate):
        raise AudioError(f"{path}: sample rate {sr} Hz is outside {limits.min_sample_rate}-{limits.max_sample_rate} Hz")
    if wav.size and not np.all(np.isfinite(wav)):
        raise AudioError(f"{path}: samples contain NaN or infinity (corrupt file?)")
    if wav.size and trim and np.max(np.abs(wav)) > 10 ** (limits.silence_peak_dbfs / 20):
        wav = trim_silence(wav, top_db=limits.trim_top_db)
    validate_audio(wav, sr, str(path), limits)
    if sample_rate is not None and sample_rate != sr:
        wav, sr = resample(wav, sr, sample_rate), sample_rate
    if normalize:
        wav = loudness_normalize(wav)
    return wav.astype(np.float32), sr


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    if orig_sr == target_sr:
        return wav
    return librosa.resample(wav, orig_sr=orig_sr, target_sr=target_sr, res_type="soxr_hq").astype(np.float32)


def trim_silence(wav: np.ndarray, top_db: float = DEFAULT_LIMITS.trim_top_db) -> np.ndarray:
    """Cut leading/trailing audio quieter than `top_db` below the peak (whisper is quiet but not silent)."""
    trimmed, _ = librosa.effects.trim(wav, top_db=top_db, frame_length=1024, hop_length=256)
    return trimmed


def loudness_normalize(
    wav: np.ndarray, target_dbfs: float = -23.0, peak_ceiling: float = 0.95, frame: int = 512
) -> np.ndarray:
    """Scale so the RMS of the louder half of frames sits at `target_dbfs` (pauses don't count),
    then pull down if that would clip past `peak_ceiling`."""
    n = wav.size // frame
    if n == 0:
        frame, n = wav.size, 1
    rms = np.sqrt(np.mean(wav[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    active = np.sort(rms)[n // 2 :]
    level = float(np.sqrt(np.mean(active**2)))
    if level <= 0:
        return wav
    gain = 10 ** (target_dbfs / 20) / level
    peak = float(np.max(np.abs(wav))) * gain
    if peak > peak_ceiling:
        gain *= peak_ceiling / peak
    return (wav * gain).astype(np.float32)


def save_audio(path: str | os.PathLike, wav: np.ndarray, sr: int) -> Path:
    """Write atomically: a temp file in the same folder, then rename, so readers never see half a file."""
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AudioError(f"{path}: can only write {', '.join(SAVE_FORMATS)} files")
    wav = np.asarray(wav, dtype=np.float32)
    if wav.ndim != 1 or wav.size == 0 or not np.all(np.isfinite(wav)):
        raise AudioError(f"{path}: refusing to write empty, multi-channel or non-finite audio")
    subtype = "PCM_16" if fmt in ("WAV", "FLAC") else None
    return atomic_write(
        path, lambda tmp: sf.write(tmp, np.clip(wav, -1.0, 1.0), sr, format=fmt, subtype=subtype), suffix=path.suffix
    )
