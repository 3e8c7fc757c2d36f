"""Copy-synthesis: waveform -> log-mel -> vocoder -> waveform, the check that the vocoder keeps what
the rest of the pipeline puts into the mel (words, and whether a frame is voiced or whispered)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepasmr.audio import load_audio, log_mel, save_audio
from deepasmr.audio.features import MelConfig
from deepasmr.vocoder.base import Vocoder


@dataclass(frozen=True)
class MelDistanceConfig:
    # Frames whose loudest mel bin is more than this many nepers (natural-log units) under the clip's
    # loudest bin are silence: 6 nepers ~ 52 dB. Their log-floor values would only add noise to the L1.
    active_range: float = 6.0


def copy_synthesize(wav: np.ndarray, vocoder: Vocoder, style: str | None = None, drive_f0: str | None = None
                    ) -> np.ndarray:
    """`wav` at `vocoder.sample_rate` -> the vocoder's reconstruction from its log-mel (same length,
    rounded down to whole frames). `style`: the clip's style, for a vocoder told the output style.
    `drive_f0` ("pyin" or "world"): give the vocoder the clip's own F0 and voicing by that tracker, as the
    pipeline gives it the F0 it told the decoder; a vocoder without a pitch head ignores it."""
    mel = log_mel(wav, vocoder.mel_config)
    f0 = None
    if drive_f0:
        from deepasmr.vocoder.voicing import frame_labels

        unvoiced, hz = frame_labels(wav, vocoder.sample_rate, vocoder.mel_config, tracker=drive_f0)
        track = torch.from_numpy(np.where(unvoiced, 0.0, hz).astype(np.float32))
        f0 = torch.zeros(mel.shape[-1])  # the mel's last frame(s) past the track: unvoiced
        f0[: min(len(track), len(f0))] = track[: len(f0)]
    return vocoder.generate(mel, style=style, f0=f0).numpy().astype(np.float32)


def mel_l1(
    reference: np.ndarray, output: np.ndarray, mel: MelConfig, cfg: MelDistanceConfig = MelDistanceConfig()
) -> float:
    """Mean |log-mel(reference) - log-mel(output)| over the reference's active frames."""
    ref, out = log_mel(reference, mel), log_mel(output, mel)
    n = min(ref.shape[-1], out.shape[-1])
    ref, out = ref[:, :n], out[:, :n]
    peak = ref.max(dim=0).values
    active = peak >= peak.max() - cfg.active_range
    return float((ref - out).abs()[:, active].mean())


def vocode_files(
    paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, vocoder: Vocoder, voicing: bool = False
) -> list[dict]:
    """Copy-synthesise each file into `out_dir/<stem>.wav`; returns one record per file (with R_UV of
    input and output when `voicing`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for path in paths:
        wav, sr = load_audio(path, vocoder.sample_rate, trim=False)
        out = copy_synthesize(wav, vocoder)
        target = out_dir / f"{Path(path).stem}.wav"
        save_audio(target, out, sr)
        record = {
            "path": str(path),
            "output": str(target),
            "duration_s": round(wav.size / sr, 3),
            "mel_l1": round(mel_l1(wav, out, vocoder.mel_config), 4),
        }
        pair = voicing_pair(wav, out, sr) if voicing else None
        if pair is not None:
            record["r_uv_in"], record["r_uv_out"] = (round(x, 4) for x in pair)
        records.append(record)
    return records


def voicing_pair(wav: np.ndarray, out: np.ndarray, sr: int) -> tuple[float, float] | None:
    """R_UV of original and copy (deepasmr.eval.voicing), or None when the eval package is absent."""
    try:
        from deepasmr.eval.voicing import analyze_voicing
    except ImportError:
        return None
    return analyze_voicing(wav, sr).r_uv, analyze_voicing(out, sr).r_uv


def set_threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)
