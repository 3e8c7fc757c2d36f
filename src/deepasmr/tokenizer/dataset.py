"""Manifest rows -> cached log-mels + phone ids + style, batched by frames for the tokenizer stage."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm import tqdm

from deepasmr.audio import MEL_PRESETS, MelConfig, load_audio, log_mel
from deepasmr.errors import DataError
from deepasmr.tokenizer.model import STYLES
from deepasmr.tokenizer.vocab import PhoneVocab
from deepasmr.train.data import FrameDataModule


def read_rows(manifest: str | Path, splits: tuple[str, ...] | None = None) -> list[dict]:
    from deepasmr.data.manifest import read_manifest

    rows = read_manifest(manifest)
    root = Path(manifest).parent
    out = []
    for row in rows:
        if splits is None or row["split"] in splits:
            out.append({**row, "path": str(root / row["path"])})
    return out


def mel_of_file(path: str | Path, mel_cfg: MelConfig) -> torch.Tensor:
    """The tokenizer's input features of one audio file: (n_mels, frames) float32."""
    wav, _ = load_audio(path, mel_cfg.sample_rate, trim=False)
    return log_mel(wav, mel_cfg)


class MelDataset(Dataset):
    """All mels computed once and kept in memory as fp16 (3 h of audio at 86 Hz is ~150 MB)."""

    def __init__(self, rows: list[dict], vocab: PhoneVocab, mel_cfg: MelConfig, desc: str = "mels") -> None:
        self.rows = rows
        self.mels = [mel_of_file(r["path"], mel_cfg).half() for r in tqdm(rows, desc=desc, leave=False)]
        self.phones = [torch.tensor(vocab.encode(r["phonemes"]), dtype=torch.long) for r in rows]
        self.lengths = [m.shape[1] for m in self.mels]
        self.frame_rate = mel_cfg.frame_rate

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        row = self.rows[i]
        return {"id": row["id"], "mel": self.mels[i], "phones": self.phones[i],
                "style": STYLES.index(row["style"])}


def collate(items: list[dict], pad_value: float, frame_rate: float) -> dict:
    mels = [it["mel"].float().T for it in items]
    lengths = torch.tensor([m.shape[0] for m in mels])
    return {
        "ids": [it["id"] for it in items],
        "mel": nn.utils.rnn.pad_sequence(mels, batch_first=True, padding_value=pad_value).transpose(1, 2),
        "mel_lengths": lengths,
        "phones": nn.utils.rnn.pad_sequence([it["phones"] for it in items], batch_first=True),
        "phone_lengths": torch.tensor([len(it["phones"]) for it in items]),
        "style": torch.tensor([it["style"] for it in items]),
        "batch_size": len(items),
        "seconds": float(lengths.sum()) / frame_rate,
    }


class TokenizerDataModule(FrameDataModule):
    def __init__(self, cfg) -> None:
        super().__init__(cfg.batch, cfg.trainer.seed)
        self.cfg = cfg
        self.mel_cfg = MEL_PRESETS[cfg.model.mel_preset]
        self._vocab: PhoneVocab | None = None
        self._stats: tuple[torch.Tensor, torch.Tensor] | None = None

    def _rows(self, splits: tuple[str, ...]) -> list[dict]:
        d = self.cfg.data
        rows = [r for r in read_rows(d.manifest, splits) if d.min_seconds <= r["duration"] <= d.max_seconds]
        return sorted(rows, key=lambda r: r["id"])

    @property
    def vocab(self) -> PhoneVocab:
        if self._vocab is None:
            rows = self._rows(tuple(self.cfg.data.train_splits))
            if not rows:
                raise DataError(f"{self.cfg.data.manifest}: no rows in splits {self.cfg.data.train_splits}")
            self._vocab = PhoneVocab.from_rows(rows)
        return self._vocab

    def build_datasets(self):
        train = MelDataset(self._rows(tuple(self.cfg.data.train_splits)), self.vocab, self.mel_cfg, "train mels")
        val_rows = self._rows(tuple(self.cfg.data.val_splits))
        val = MelDataset(val_rows, self.vocab, self.mel_cfg, "dev mels") if val_rows else None
        return train, val

    @property
    def mel_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean / std of the training mels (the model's input normalisation)."""
        if self._stats is None:
            self.setup("fit")
            total = torch.zeros(self.mel_cfg.n_mels, dtype=torch.float64)
            sq = torch.zeros_like(total)
            n = 0
            for mel in self.train_set.mels:
                m = mel.double()
                total += m.sum(1)
                sq += (m**2).sum(1)
                n += m.shape[1]
            mean = total / n
            std = (sq / n - mean**2).clamp(min=1e-8).sqrt()
            self._stats = (mean.float()[:, None], std.float()[:, None])
        return self._stats

    def collate(self, items: list[dict]) -> dict:
        return collate(items, math.log(self.mel_cfg.log_floor), self.mel_cfg.frame_rate)
