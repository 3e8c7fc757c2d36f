"""A seconds-fast stage: the template for new stages and the subject of the resume / DDP tests.

Synthetic variable-length sequences; the model (conv + dropout + linear) regresses a per-frame target.
It exercises everything the real stages use: frame batching, dropout RNG, AdamW, schedule, checkpoints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import Dataset

from deepasmr.train.config import BatchConfig, OptimConfig, TrainerConfig
from deepasmr.train.data import FrameDataModule
from deepasmr.train.registry import StageSpec


@dataclass
class ToyDataConfig:
    n_items: int = 96
    min_frames: int = 8
    max_frames: int = 64
    dim: int = 8
    data_seed: int = 7
    delay_s: float = 0.0  # sleep per batch: lets tests kill a run mid-epoch


@dataclass
class ToyModelConfig:
    hidden: int = 32
    dropout: float = 0.2


@dataclass
class ToyConfig:
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(
        out_dir="runs/toy", max_steps=40, ckpt_every_n_steps=5, log_every_n_steps=1, num_threads=1))
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=3e-3, warmup_steps=5))
    batch: BatchConfig = field(default_factory=lambda: BatchConfig(max_frames=256))
    data: ToyDataConfig = field(default_factory=ToyDataConfig)
    model: ToyModelConfig = field(default_factory=ToyModelConfig)


class ToyDataset(Dataset):
    def __init__(self, cfg: ToyDataConfig) -> None:
        g = torch.Generator().manual_seed(cfg.data_seed)
        self.lengths = torch.randint(cfg.min_frames, cfg.max_frames + 1, (cfg.n_items,), generator=g).tolist()
        self.x = [torch.randn(n, cfg.dim, generator=g) for n in self.lengths]
        w = torch.randn(cfg.dim, 1, generator=g)
        self.y = [torch.tanh(x @ w).squeeze(-1) for x in self.x]

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> tuple[str, torch.Tensor, torch.Tensor]:
        return f"toy{i:05d}", self.x[i], self.y[i]


class ToyDataModule(FrameDataModule):
    def __init__(self, cfg: ToyConfig) -> None:
        super().__init__(cfg.batch, cfg.trainer.seed)
        self.cfg = cfg

    def build_datasets(self):
        return ToyDataset(self.cfg.data), None

    def collate(self, items):
        if self.cfg.data.delay_s:
            time.sleep(self.cfg.data.delay_s)
        ids, xs, ys = zip(*items, strict=True)
        lengths = torch.tensor([len(x) for x in xs])
        x = nn.utils.rnn.pad_sequence(xs, batch_first=True)
        y = nn.utils.rnn.pad_sequence(ys, batch_first=True)
        return {"ids": list(ids), "x": x, "y": y, "lengths": lengths, "batch_size": len(ids),
                "seconds": float(lengths.sum()) / 100.0}


class ToyModel(nn.Module):
    def __init__(self, dim: int, cfg: ToyModelConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(dim, cfg.hidden, 3, padding=1), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Conv1d(cfg.hidden, 1, 1))

    def forward(self, batch: dict) -> dict:
        pred = self.net(batch["x"].transpose(1, 2)).squeeze(1)
        mask = torch.arange(pred.shape[1])[None] < batch["lengths"][:, None]
        loss = ((pred - batch["y"]) ** 2 * mask).sum() / mask.sum()
        return {"loss": loss}


SPEC = StageSpec(
    name="toy",
    config_cls=ToyConfig,
    presets={"tiny": ToyConfig, "paper": ToyConfig},
    build_data=ToyDataModule,
    build_model=lambda cfg, dm: ToyModel(cfg.data.dim, cfg.model),
    description="synthetic regression; tests and template",
)
