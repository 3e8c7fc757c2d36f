"""`deepasmr analyze`: per-file duration, loudness, F0 statistics, R_UV and style, with an optional plot.

Loudness is plain RMS in dBFS (no K-weighting, so "LUFS-ish"): over the whole clip, and over the active
frames only (the frames R_UV counts), which does not drop when a clip has long pauses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepasmr.atomic import save_figure
from deepasmr.eval.voicing import DEFAULT_VOICING, VoicingConfig, VoicingTrack, voicing_track

_EPS = 1e-10


@dataclass(frozen=True)
class PlotConfig:
    width_in: float = 12.0
    height_in: float = 6.0
    dpi: int = 110
    unvoiced_color: str = "tab:orange"
    voiced_color: str = "tab:green"
    shade_alpha: float = 0.25


def _db(x: float) -> float:
    return round(20 * float(np.log10(x + _EPS)), 2)


def analyze_wave(
    wav: np.ndarray, sr: int, path: str = "", config: VoicingConfig = DEFAULT_VOICING
) -> tuple[dict, VoicingTrack]:
    track = voicing_track(wav, sr, config)
    summary = track.summary()
    active_rms = 10 ** (track.rms_db[track.active] / 20)
    result = {
        "path": path,
        "duration_s": round(wav.size / sr, 3),
        "sample_rate": sr,
        "peak_dbfs": _db(float(np.max(np.abs(wav)))),
        "rms_dbfs": _db(float(np.sqrt(np.mean(wav.astype(np.float64) ** 2)))),
        "active_rms_dbfs": _db(float(np.sqrt(np.mean(active_rms**2)))) if active_rms.size else None,
        "active_s": round(track.n_active / config.frame_rate, 3),
        **summary.to_dict(),
    }
    result["r_uv"] = round(result["r_uv"], 4) if np.isfinite(result["r_uv"]) else None
    return result, track


def analyze_file(
    path: str | os.PathLike, config: VoicingConfig = DEFAULT_VOICING
) -> tuple[dict, VoicingTrack, np.ndarray]:
    """Analyse one file at its own sample rate (no trimming: the energy gate handles pauses)."""
    from deepasmr.audio import load_audio

    wav, sr = load_audio(path, trim=False)
    result, track = analyze_wave(wav, sr, str(path), config)
    return result, track, wav


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where mask is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def plot_analysis(
    wav: np.ndarray,
    sr: int,
    track: VoicingTrack,
    result: dict,
    out: str | os.PathLike,
    plot: PlotConfig = PlotConfig(),
) -> Path:
    """PNG: log-mel spectrogram (the project's one mel definition) with voiced/unvoiced shading of the
    active frames, and the F0 track with the frame energy and gate below it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from deepasmr.audio import MEL_PRESETS, log_mel, resample

    mel_cfg = MEL_PRESETS["tiny"]
    mel = log_mel(resample(wav, sr, mel_cfg.sample_rate), mel_cfg).numpy()
    duration = wav.size / sr
    hop_s = 1 / track.config.frame_rate
    fig, (ax_mel, ax_f0) = plt.subplots(2, 1, figsize=(plot.width_in, plot.height_in), sharex=True)
    ax_mel.imshow(mel, origin="lower", aspect="auto", extent=(0, duration, 0, mel_cfg.n_mels), cmap="magma")
    ax_mel.set_ylabel("mel bin")
    style = result.get("style", "?")
    r_uv = result.get("r_uv")
    ax_mel.set_title(
        f"{Path(result.get('path') or 'audio').name}: R_UV {r_uv if r_uv is None else f'{r_uv:.1%}'} -> {style}"
    )
    for mask, color in (
        (track.active & track.voiced, plot.voiced_color),
        (track.active & ~track.voiced, plot.unvoiced_color),
    ):
        for a, b in _spans(mask):
            # Frames are centred: frame i covers i*hop +- hop/2.
            ax_f0.axvspan((a - 0.5) * hop_s, (b - 0.5) * hop_s, color=color, alpha=plot.shade_alpha, lw=0)
    ax_f0.plot(track.times, track.f0, color="tab:blue", lw=1.5, label="F0 (PYIN)")
    ax_f0.set_ylabel("F0 (Hz)")
    ax_f0.set_ylim(0, track.config.fmax)
    ax_f0.set_xlabel("time (s)")
    ax_db = ax_f0.twinx()
    ax_db.plot(track.times, track.rms_db, color="gray", lw=0.8, label="frame RMS (dBFS)")
    ax_db.axhline(track.rms_db.max() + track.config.gate_db, color="gray", ls="--", lw=0.8, label="activity gate")
    ax_db.set_ylim(track.rms_db.max() + 2 * track.config.gate_db, track.rms_db.max() + 3)  # hide digital silence
    ax_db.set_ylabel("dBFS")
    handles = [
        Patch(color=plot.voiced_color, alpha=plot.shade_alpha, label="active, voiced"),
        Patch(color=plot.unvoiced_color, alpha=plot.shade_alpha, label="active, unvoiced"),
        *ax_f0.get_legend_handles_labels()[0],
        *ax_db.get_legend_handles_labels()[0],
    ]
    ax_f0.legend(handles=handles, loc="upper right", fontsize="small")
    fig.tight_layout()
    return save_figure(fig, out, plot.dpi)


def plot_path(target: str | os.PathLike, audio_path: str | os.PathLike, n_files: int) -> Path:
    """`--plot X`: a .png file name for a single input; otherwise a folder holding <stem>.png per input."""
    target = Path(target)
    if target.suffix.lower() == ".png" and n_files == 1:
        return target
    return target / f"{Path(audio_path).stem}.png"
