"""Output audio: speed change and encoding into the OpenAI response formats, all through libsndfile.

pcm is raw signed 16-bit little-endian mono at the model's rate (the X-Sample-Rate header says which);
opus is Ogg/Opus at 48 kHz (Opus only takes 8/12/16/24/48 kHz); mp3 is MPEG Layer III at the model's rate.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from deepasmr.serve.errors import ApiError

OPUS_RATE = 48_000


@dataclass(frozen=True)
class Codec:
    media_type: str
    sf_format: str | None  # None: raw bytes written here
    subtype: str | None
    rate: int | None = None  # fixed output rate, else the model's


CODECS = {
    "wav": Codec("audio/wav", "WAV", "PCM_16"),
    "flac": Codec("audio/flac", "FLAC", "PCM_16"),
    "mp3": Codec("audio/mpeg", "MP3", "MPEG_LAYER_III"),
    "opus": Codec("audio/ogg", "OGG", "OPUS", OPUS_RATE),
    "pcm": Codec("audio/pcm", None, None),
}
FORMATS = tuple(CODECS)  # the OpenAI names, whether or not this libsndfile can write them


def available_formats() -> list[str]:
    """The formats this machine's libsndfile can write (mp3 and opus need libsndfile >= 1.1)."""
    import soundfile as sf

    have = sf.available_formats()
    out = []
    for name, codec in CODECS.items():
        if codec.sf_format is None or (codec.sf_format in have
                                       and codec.subtype in sf.available_subtypes(codec.sf_format)):
            out.append(name)
    return out


def check_format(name: str) -> Codec:
    if name not in CODECS:
        raise ApiError(400, f"response_format {name!r} is not one of {', '.join(FORMATS)}", param="response_format")
    if name not in available_formats():
        import soundfile as sf

        raise ApiError(400, f"response_format {name!r} cannot be written by this server's libsndfile "
                            f"{sf.__libsndfile_version__} (it needs libsndfile >= 1.1 with {name} support); "
                            f"use one of {', '.join(available_formats())}", param="response_format",
                       code="format_unavailable")
    return CODECS[name]


def change_speed(wav: np.ndarray, speed: float) -> np.ndarray:
    """Time-stretch by `speed` (2.0 = twice as fast) keeping the pitch (librosa's phase vocoder)."""
    if abs(speed - 1.0) < 1e-6:
        return wav
    import librosa

    return librosa.effects.time_stretch(wav.astype(np.float32), rate=float(speed)).astype(np.float32)


def encode(wav: np.ndarray, sr: int, name: str) -> tuple[bytes, str, int]:
    """(bytes, media type, sample rate of the bytes) of a mono float wav in format `name`."""
    codec = check_format(name)
    wav = np.clip(np.nan_to_num(np.asarray(wav, dtype=np.float32).reshape(-1)), -1.0, 1.0)
    if codec.rate and codec.rate != sr:
        from deepasmr.audio import resample

        wav, sr = np.clip(resample(wav, sr, codec.rate), -1.0, 1.0), codec.rate
    if codec.sf_format is None:
        return (np.round(wav * 32767.0).astype("<i2")).tobytes(), codec.media_type, sr
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, wav, sr, format=codec.sf_format, subtype=codec.subtype)
    return buf.getvalue(), codec.media_type, sr
