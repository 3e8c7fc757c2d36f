"""Which mel frames are unvoiced: PYIN labels for training, and a small head that predicts them from the mel.

Why a vocoder needs this: a Vocos head that predicts the phase renders every frame with a phase that
barely moves from frame to frame, so unvoiced frames (whisper, but also the fricatives and breaths of
normal speech) buzz at the frame rate and a pitch tracker calls them voiced. Drawing the phase at random
on exactly the frames PYIN calls unvoiced in the original brought copy-synthesis of normal speech back
to its own R_UV (8 corpus/v2 test clips: 20.4 % originals, 7.8 % predicted phase, 22.8 % with PYIN's
frames) with the words unchanged. At inference there is no original, so `VoicingHead` predicts those
frames from the mel; it is trained beside the generator on labels made once per corpus (`label_rows`).
The label files also keep PYIN's F0 of each frame, for `PitchHead` (a Vocos whose phase follows F0).
`--tracker world` labels with WORLD's DIO + StoneMask instead: ~50x faster than PYIN, for the F0 of a whole
corpus (the flow decoder's pitch condition, deepasmr.flow.pitch).

    python -m deepasmr.vocoder.voicing --manifest corpus/v2/manifest.jsonl --out runs/vocoder/voicing_v2.safetensors
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deepasmr.audio.features import MEL_PRESETS, MelConfig

F0_SUFFIX = ".f0"  # label files may also hold each utterance's PYIN F0 under "<id>.f0"


TRACKERS = ("pyin", "world")


def frame_centres(n_frames: int, mel: MelConfig) -> np.ndarray:
    """Seconds at which mel frame j is centred: sample (j + 1/2) hop (same padding, see audio.features.log_mel)."""
    return (np.arange(n_frames) + 0.5) * mel.hop_length / mel.sample_rate


def world_f0(wav: np.ndarray, sr: int, mel: MelConfig) -> np.ndarray:
    """(frames,) float32 F0 in Hz at the log-mel's frame rate, 0 where WORLD's DIO + StoneMask find no voicing;
    frames = len(wav) // hop. The speaking range searched is 60-600 Hz."""
    import pyworld

    x = np.ascontiguousarray(wav, dtype=np.float64)
    period_ms = 1000.0 * mel.hop_length / sr
    f0, times = pyworld.dio(x, sr, f0_floor=60.0, f0_ceil=600.0, frame_period=period_ms)
    f0 = pyworld.stonemask(x, f0, times, sr)
    centres = frame_centres(wav.shape[-1] // mel.hop_length, mel)
    k = np.clip(np.round(centres * 1000.0 / period_ms).astype(int), 0, f0.size - 1)
    return f0[k].astype(np.float32)


def frame_labels(wav: np.ndarray, sr: int, mel: MelConfig, tracker: str = "pyin") -> tuple[np.ndarray, np.ndarray]:
    """((frames,) bool, (frames,) float32 Hz) at the log-mel's frame rate: True where PYIN (deepasmr.eval's
    R_UV analysis) does not call the frame voiced, silence included; PYIN's F0 (0 on those frames). `wav` is
    at `mel.sample_rate`; frames = len(wav) // hop. tracker "world": `world_f0`'s voicing and F0 instead."""
    from deepasmr.eval.voicing import voicing_track

    if tracker == "world":
        f0 = world_f0(wav, sr, mel)
        return f0 <= 0, f0

    track = voicing_track(wav, sr)
    n_frames = wav.shape[-1] // mel.hop_length
    # PYIN's frame k is centred on k * its hop (librosa centres its frames).
    centres = frame_centres(n_frames, mel)
    k = np.clip(np.round(centres * track.config.frame_rate).astype(int), 0, track.voiced.size - 1)
    voiced = track.voiced[k] & np.isfinite(track.f0[k])
    return ~voiced, np.where(voiced, track.f0[k], 0.0).astype(np.float32)


def frame_unvoiced(wav: np.ndarray, sr: int, mel: MelConfig) -> np.ndarray:
    """The unvoiced flags of `frame_labels`."""
    return frame_labels(wav, sr, mel)[0]


def _label_one(args: tuple[str, str, str, str]) -> tuple[str, np.ndarray, np.ndarray]:
    from deepasmr.audio import load_audio

    utt_id, path, preset, tracker = args
    mel = MEL_PRESETS[preset]
    wav, sr = load_audio(path, mel.sample_rate, trim=False)
    unvoiced, f0 = frame_labels(wav, sr, mel, tracker)
    return utt_id, unvoiced.astype(np.uint8), f0


def label_rows(rows: Sequence[dict], mel: str = "tiny", workers: int = 1,
               tracker: str = "pyin") -> dict[str, np.ndarray]:
    """{id: (frames,) uint8 unvoiced flags, id + F0_SUFFIX: (frames,) float32 F0 in Hz} for manifest rows
    ({"id", "path"} with absolute paths), from `tracker` (one of TRACKERS)."""
    from tqdm import tqdm

    if tracker not in TRACKERS:
        raise ValueError(f"unknown pitch tracker {tracker!r}; choose from {TRACKERS}")
    jobs = [(r["id"], str(r["path"]), mel, tracker) for r in rows]
    desc = f"{tracker.upper()} labels"
    if workers <= 1:
        results = [_label_one(job) for job in tqdm(jobs, desc=desc)]
    else:
        with ProcessPoolExecutor(workers) as pool:
            results = list(tqdm(pool.map(_label_one, jobs, chunksize=8), total=len(jobs), desc=desc))
    labels = {}
    for utt_id, unvoiced, f0 in results:
        labels[utt_id], labels[utt_id + F0_SUFFIX] = unvoiced, f0
    return labels


def split_labels(labels: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A label file's ({id: unvoiced flags}, {id: F0 in Hz}); the second is empty for a file without F0."""
    flags = {k: v for k, v in labels.items() if not k.endswith(F0_SUFFIX)}
    f0 = {k[: -len(F0_SUFFIX)]: v for k, v in labels.items() if k.endswith(F0_SUFFIX)}
    return flags, f0


def save_labels(labels: dict[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Atomic write (safetensors: arrays only, nothing to unpickle)."""
    from safetensors.numpy import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: np.ascontiguousarray(v) for k, v in labels.items()}, str(tmp))
    os.replace(tmp, path)
    return path


def load_labels(path: str | os.PathLike) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from deepasmr.errors import ModelFilesError

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:  # missing, or not a safetensors file
        raise ModelFilesError(f"voicing labels {path}: cannot read ({err}); make them with "
                              "python -m deepasmr.vocoder.voicing") from None


class VoicingHead(nn.Module):
    """(B, n_mels, T) log-mel -> (B, T) logits that a frame is unvoiced. Three convolutions see ±4 frames
    (±46 ms at the tiny mel): enough context for a fricative or a breath, cheap beside the generator.
    Its input is scaled by the log-mel's rough mean and spread on speech (the flow decoder's defaults)."""

    def __init__(self, n_mels: int, channels: int, kernel_size: int = 5, mel_mean: float = -6.0,
                 mel_std: float = 2.25):
        super().__init__()
        self.mel_mean, self.mel_std = mel_mean, mel_std
        pad = kernel_size // 2
        self.net = nn.Sequential(
            nn.Conv1d(n_mels, channels, kernel_size, padding=pad), nn.GELU(),
            nn.Conv1d(channels, channels, kernel_size, padding=pad), nn.GELU(),
            nn.Conv1d(channels, 1, 1),
        )

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.net((mel - self.mel_mean) / self.mel_std)[:, 0]

    def loss(self, mel: torch.Tensor, unvoiced: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Binary cross-entropy against PYIN's flags, and the frame accuracy (for the logs)."""
        logits = self(mel.detach())
        target = unvoiced.to(logits.dtype)
        accuracy = ((logits > 0) == unvoiced.bool()).float().mean()
        return F.binary_cross_entropy_with_logits(logits, target), accuracy.detach()


class PitchHead(VoicingHead):
    """(B, n_mels, T) log-mel -> (B, T) F0 in Hz, the same small network as the voicing head, read as octaves
    around `centre_hz`. Trained on PYIN's F0 of voiced frames (L1 in octaves)."""

    def __init__(self, n_mels: int, channels: int, centre_hz: float = 150.0):
        super().__init__(n_mels, channels)
        self.centre_hz = centre_hz

    def hz(self, mel: torch.Tensor) -> torch.Tensor:
        return self.centre_hz * torch.exp2(self(mel))

    def loss(self, mel: torch.Tensor, f0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """L1 in octaves over PYIN-voiced frames (f0 > 0), and the share within 20 % (for the logs)."""
        octaves = self(mel.detach())
        voiced = f0 > 0
        if not bool(voiced.any()):
            return octaves.sum() * 0.0, octaves.new_ones(())
        target = torch.log2(f0[voiced] / self.centre_hz)
        error = (octaves[voiced] - target).abs()
        within = (error < np.log2(1.2)).float().mean()
        return error.mean(), within.detach()


def main(argv: list[str] | None = None) -> int:
    from deepasmr.data.manifest import read_manifest

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="a .safetensors file of {utterance id: flags}")
    p.add_argument("--splits", nargs="+", default=["train", "dev"])
    p.add_argument("--per-group", type=int, default=0,
                   help="at most this many utterances per (split, language, style), spread over speakers (0: all)")
    p.add_argument("--mel", default="tiny", choices=sorted(MEL_PRESETS))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--tracker", default="pyin", choices=TRACKERS,
                   help="pyin (the R_UV analysis's, for the vocoder's heads) or world (fast, for a whole corpus)")
    args = p.parse_args(argv)
    if not args.manifest.is_file():
        p.error(f"no manifest at {args.manifest}")
    root = args.manifest.parent
    groups: dict[tuple, list[dict]] = {}
    for r in read_manifest(args.manifest):
        if r["split"] in args.splits:
            groups.setdefault((r["split"], r["language"], r["style"]), []).append({**r, "path": root / r["path"]})
    rows = []
    for members in groups.values():
        members.sort(key=lambda r: (r["speaker"], r["id"]))
        step = max(1, len(members) // args.per_group) if args.per_group else 1
        rows.extend(members[::step][: args.per_group or None])
    labels = label_rows(rows, args.mel, args.workers, args.tracker)
    flags, _ = split_labels(labels)
    frames = sum(v.size for v in flags.values())
    share = sum(int(v.sum()) for v in flags.values()) / max(frames, 1)
    print(f"{len(flags)} utterances, {frames} frames, {100 * share:.1f} % unvoiced -> {save_labels(labels, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
