"""Render one speaker's utterances to wav files (runs inside a worker process).

Per utterance: base voice render (normal voice, or espeak's native whisper variant for speakers whose ASMR
source is "native") -> WORLD transform (pitch/warp/rate; for ASMR F0 = 0, fully aperiodic, slower) ->
trim silence -> resample to the corpus rate -> ASMR brightness + style loudness -> atomic save.
Wav files that already exist are kept (resume), their duration read from the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from deepasmr.data.plan import SynthConfig, Utterance
from deepasmr.data.speakers import ROSTER_BY_ID, Speaker


@dataclass(frozen=True)
class TrimConfig:
    frame_s: float = 0.01
    # Whisper is quiet but its noise floor is far below 40 dB under its peak.
    top_db: float = 40.0
    # Keep a little room so onsets and final fricatives are not clipped.
    margin_s: float = 0.05


@dataclass(frozen=True)
class SpeakerJob:
    speaker: str
    utterances: tuple[Utterance, ...]
    phonemes: tuple[str, ...]
    split: str
    out_dir: str
    cfg: SynthConfig


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def transform_label(spk: Speaker, style: str, cfg: SynthConfig) -> str:
    """Short description of what turned the base voice into this utterance."""
    tf = spk.transform(style, cfg.delivery.asmr_stretch)
    parts = []
    if style == "asmr":
        parts.append("native-whisper" if spk.asmr_source == "native" else "world-f0zero-aperiodic")
    elif tf.pitch != 1.0:
        parts.append(f"pitch{_fmt(tf.pitch)}")
    if tf.warp != 1.0:
        parts.append(f"warp{_fmt(tf.warp)}")
    if tf.stretch != 1.0:
        parts.append(f"stretch{_fmt(tf.stretch)}")
    if style == "asmr":
        d = cfg.delivery
        parts.append(f"shelf+{d.shelf_gain_db:g}dB@{d.shelf_hz / 1000:g}k")
        parts.append(f"level{d.asmr_dbfs - d.normal_dbfs:+g}dB")
    return "+".join(parts) or "none"


def source_voice(spk: Speaker, style: str) -> str:
    if style == "asmr" and spk.asmr_source == "native":
        return f"espeak:{spk.base.whisper_voice()}"
    return f"{spk.base.engine}:{spk.base.voice}"


def resample_fast(wav: np.ndarray, sr: int, target: int) -> np.ndarray:
    """soxr directly: librosa's import and JIT would cost each worker seconds."""
    import soxr

    return wav if sr == target else soxr.resample(wav, sr, target, quality="HQ").astype(np.float32)


def trim(wav: np.ndarray, sr: int, cfg: TrimConfig = TrimConfig()) -> np.ndarray:
    """Cut leading/trailing frames more than `top_db` below the loudest frame, keeping a short margin."""
    hop = max(1, int(sr * cfg.frame_s))
    n = wav.size // hop
    if n < 2:
        return wav
    rms = np.sqrt(np.mean(wav[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -cfg.top_db)
    pad = int(cfg.margin_s * sr)
    return wav[max(0, loud[0] * hop - pad): min(wav.size, (loud[-1] + 1) * hop + pad)]


def _engine_text(spk: Speaker, text: str) -> str:
    if spk.language == "zh":
        from deepasmr.frontend import to_pinyin

        return to_pinyin(text)
    return text


def _synthesise(spk: Speaker, utts: list[Utterance], cfg: SynthConfig, out: Path) -> dict[str, float]:
    from deepasmr.audio import save_audio
    from deepasmr.data.delivery import finish
    from deepasmr.data.voices import render
    from deepasmr.data.world_fx import apply_transform

    durations = {}
    for style in ("normal", "asmr"):
        batch = [u for u in utts if u.style == style]
        if not batch:
            continue
        whisper = style == "asmr" and spk.asmr_source == "native"
        waves = render(spk.base, [_engine_text(spk, u.text) for u in batch], whisper=whisper)
        tf = spk.transform(style, cfg.delivery.asmr_stretch)
        for utt, (wav, sr) in zip(batch, waves, strict=True):
            if sr > cfg.sample_rate:  # analyse at the lower rate: WORLD's cost grows with it
                wav, sr = resample_fast(wav, sr, cfg.sample_rate), cfg.sample_rate
            y = trim(apply_transform(wav, sr, tf, cfg.world), sr)
            y = finish(resample_fast(y, sr, cfg.sample_rate), cfg.sample_rate, style, cfg.delivery)
            save_audio(out / utt.path, y, cfg.sample_rate)
            durations[utt.id] = y.size / cfg.sample_rate
    return durations


def render_speaker(job: SpeakerJob) -> list[dict]:
    """Make every missing wav of one speaker; return the speaker's manifest rows."""
    spk = ROSTER_BY_ID[job.speaker]
    out = Path(job.out_dir)
    todo = [u for u in job.utterances if not (out / u.path).is_file()]
    durations = _synthesise(spk, todo, job.cfg, out) if todo else {}
    rows = []
    for utt, phones in zip(job.utterances, job.phonemes, strict=True):
        dur = durations.get(utt.id)
        if dur is None:
            info = sf.info(str(out / utt.path))
            dur = info.frames / info.samplerate
        rows.append({
            "id": utt.id, "path": utt.path, "text": utt.text, "phonemes": phones, "language": spk.language,
            "speaker": spk.id, "style": utt.style, "source_voice": source_voice(spk, utt.style),
            "transform": transform_label(spk, utt.style, job.cfg), "duration": round(dur, 3),
            "gender": spk.gender, "split": job.split,
        })
    return rows
