"""Speaker embeddings for SIM: resemblyzer's GE2E encoder (256-d, L2-normalised; weights ship in its wheel).

The paper scores SIM with WavLM-large SV, which cannot be had offline; GE2E is the stand-in, so absolute
numbers differ from the paper's — always compare against the ground truth's own SIM.

resemblyzer's `preprocess_wav` shortens pauses with webrtcvad (mode 3). webrtcvad is a voiced-speech
detector: on a whisper it may keep too little. When it keeps less than `min_vad_keep` of the clip we
fall back to our relative-energy trim, which treats whisper like any other speech.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from deepasmr.errors import AudioError, ModelFilesError

EMBEDDING_DIM = 256


@dataclass(frozen=True)
class EmbeddingConfig:
    sample_rate: int = 16_000  # resemblyzer's own rate
    # Below this share of samples kept by webrtcvad, its trim is distrusted (whisper) and ours is used.
    min_vad_keep: float = 0.5
    # resemblyzer zero-pads clips to one 1.6 s window; with less speech than this it embeds padding.
    min_seconds: float = 0.3
    # Our fallback trim: frames more than this far below the loudest frame are pause.
    energy_gate_db: float = -40.0
    frame: int = 400  # 25 ms at 16 kHz
    device: str = "cpu"


DEFAULT_EMBEDDING = EmbeddingConfig()
_lock = threading.Lock()


@lru_cache(maxsize=2)
def get_encoder(device: str = DEFAULT_EMBEDDING.device):
    """The VoiceEncoder, loaded once per process (the weights are ~17 MB, load in well under a second)."""
    with _lock:
        try:
            with warnings.catch_warnings():  # resemblyzer imports a deprecated scipy.ndimage path
                warnings.simplefilter("ignore", DeprecationWarning)
                from resemblyzer import VoiceEncoder
        except ImportError as err:
            raise ModelFilesError(
                "resemblyzer is not installed: pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels"
            ) from err
        try:
            return VoiceEncoder(device=device, verbose=False)
        except FileNotFoundError as err:
            raise ModelFilesError(f"resemblyzer's pretrained weights are missing from its wheel: {err}") from err


def _energy_trim(wav: np.ndarray, config: EmbeddingConfig) -> np.ndarray:
    """Keep frames within `energy_gate_db` of the loudest one (drops pauses, keeps whispered speech)."""
    n = wav.size // config.frame
    if n == 0:
        return wav
    frames = wav[: n * config.frame].reshape(n, config.frame)
    rms_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    keep = rms_db >= rms_db.max() + config.energy_gate_db
    return frames[keep].reshape(-1)


def preprocess(wav: np.ndarray, sr: int, config: EmbeddingConfig = DEFAULT_EMBEDDING) -> np.ndarray:
    """Resample to 16 kHz, normalise volume, shorten pauses (webrtcvad, or energy for whispers)."""
    get_encoder(config.device)  # imports resemblyzer (quietly) before its submodules
    from resemblyzer.audio import normalize_volume, trim_long_silences
    from resemblyzer.hparams import audio_norm_target_dBFS

    from deepasmr.audio import resample

    wav = np.asarray(wav, dtype=np.float32)
    if wav.ndim != 1 or wav.size == 0 or not np.all(np.isfinite(wav)):
        raise AudioError("speaker embedding needs a non-empty, finite, mono waveform")
    wav = resample(wav, sr, config.sample_rate)
    wav = normalize_volume(wav, audio_norm_target_dBFS, increase_only=True)
    # normalize_volume can push peaks past full scale; webrtcvad's int16 conversion would wrap them.
    wav = np.clip(wav, -1.0, 1.0)
    trimmed = trim_long_silences(wav)
    if trimmed.size < config.min_vad_keep * wav.size:
        trimmed = _energy_trim(wav, config)
    if trimmed.size < config.min_seconds * config.sample_rate:
        raise AudioError(f"too little speech for a speaker embedding ({trimmed.size / config.sample_rate:.2f} s)")
    return trimmed.astype(np.float32)


def embed(wav: np.ndarray, sr: int, config: EmbeddingConfig = DEFAULT_EMBEDDING) -> np.ndarray:
    """256-d unit-norm speaker embedding of a mono waveform."""
    vec = get_encoder(config.device).embed_utterance(preprocess(wav, sr, config))
    vec = np.asarray(vec, dtype=np.float32)
    return vec / max(float(np.linalg.norm(vec)), 1e-12)


def embed_file(path: str | os.PathLike, config: EmbeddingConfig = DEFAULT_EMBEDDING) -> np.ndarray:
    from deepasmr.audio import load_audio

    wav, sr = load_audio(path, config.sample_rate)
    return embed(wav, sr, config)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"embeddings differ in size: {a.size} vs {b.size}")
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom > 0 else 0.0
