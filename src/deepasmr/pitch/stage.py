"""`deepasmr train pitch`: the F0 predictor's entry in the shared training registry (deepasmr.train).

Data: the flow decoder's feature shards (tokens) and a F0 label file (`python -m deepasmr.vocoder.voicing
--tracker world`), normal-style utterances only (whispers have no pitch to learn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from deepasmr.audio.features import MEL_PRESETS, MelConfig
from deepasmr.data.shards import ShardReader
from deepasmr.errors import DataError
from deepasmr.flow.data import fit_frames, pitch_labels
from deepasmr.pitch.model import PitchConfig, PitchPredictor, save_pitch
from deepasmr.train.config import BatchConfig, OptimConfig, TrainerConfig
from deepasmr.train.data import FrameDataModule
from deepasmr.train.registry import StageSpec


@dataclass
class PitchDataConfig:
    shard_dir: str = "runs/shards/v3"
    pitch_labels: str = "runs/flow/pitch_world_v2.safetensors"
    train_split: str = "train"
    val_split: str = "dev"
    styles: tuple[str, ...] = ("normal",)
    max_items: int = 0  # 0 = all


@dataclass
class PitchStageConfig:
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(
        out_dir="runs/pitch/tiny", max_steps=3_000, ckpt_every_n_steps=500, val_every_n_steps=500, num_threads=1))
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-3, warmup_steps=200))
    batch: BatchConfig = field(default_factory=lambda: BatchConfig(max_frames=8_000))
    data: PitchDataConfig = field(default_factory=PitchDataConfig)
    model: PitchConfig = field(default_factory=PitchConfig)


class PitchDataset(Dataset):
    def __init__(self, reader: ShardReader, f0: dict[str, torch.Tensor], split: str, cfg: PitchDataConfig,
                 token_ratio: int):
        self.reader, self.f0, self.ratio = reader, f0, token_ratio
        self.rows = [r for r in reader.index
                     if r.get("split") == split and r.get("style") in cfg.styles and r["id"] in f0]
        if cfg.max_items:
            self.rows = self.rows[: cfg.max_items]
        if not self.rows:
            raise DataError(f"{reader.dir}: no labelled {'/'.join(cfg.styles)} utterances in split {split!r}")
        self.lengths = [int(r["n_tokens"]) * token_ratio for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        uid = self.rows[i]["id"]
        tokens = self.reader[uid]["tokens"].long().reshape(-1)
        return {"id": uid, "tokens": tokens, "f0": fit_frames(self.f0[uid], tokens.numel() * self.ratio)}


def collate(items: list[dict], token_ratio: int, frame_rate: float) -> dict:
    n = max(it["tokens"].numel() for it in items)
    tokens = torch.zeros(len(items), n, dtype=torch.long)
    f0 = torch.zeros(len(items), n * token_ratio)
    for i, it in enumerate(items):
        tokens[i, : it["tokens"].numel()] = it["tokens"]
        f0[i, : it["f0"].numel()] = it["f0"]
    return {"ids": [it["id"] for it in items], "tokens": tokens, "f0": f0, "batch_size": len(items),
            "token_lens": torch.tensor([it["tokens"].numel() for it in items]),
            "seconds": sum(it["f0"].numel() for it in items) / frame_rate}


class PitchDataModule(FrameDataModule):
    def __init__(self, cfg: PitchStageConfig) -> None:
        super().__init__(cfg.batch, cfg.trainer.seed)
        self.cfg = cfg

        self.frame_rate = MEL_PRESETS["tiny"].frame_rate  # the shards' own, once read (only for the logs)

    def collate(self, items: list[dict]) -> dict:
        return collate(items, self.cfg.model.token_ratio, self.frame_rate)

    def build_datasets(self):
        d, ratio = self.cfg.data, self.cfg.model.token_ratio
        reader = ShardReader(d.shard_dir)
        if reader.meta.get("frames_per_token", ratio) != ratio:
            raise DataError(f"{d.shard_dir}: {reader.meta['frames_per_token']} frames per token (predictor: {ratio})")
        if "mel" in reader.meta:
            self.frame_rate = MelConfig(**reader.meta["mel"]).frame_rate
        f0 = pitch_labels(d.pitch_labels)
        has_val = d.val_split and any(r.get("split") == d.val_split for r in reader.index)
        val = PitchDataset(reader, f0, d.val_split, d, ratio) if has_val else None
        return PitchDataset(reader, f0, d.train_split, d, ratio), val


class PitchTrainModel(nn.Module):
    def __init__(self, cfg: PitchConfig) -> None:
        super().__init__()
        self.predictor = PitchPredictor(cfg)

    def forward(self, batch: dict) -> dict:
        return {"loss": self.predictor(batch)}


def export(model: PitchTrainModel, cfg: PitchStageConfig, datamodule, out_dir: Path) -> None:
    save_pitch(model.predictor.to(torch.float32), out_dir)


SPEC = StageSpec(
    name="pitch",
    config_cls=PitchStageConfig,
    presets={"tiny": PitchStageConfig},
    build_data=PitchDataModule,
    build_model=lambda cfg, datamodule: PitchTrainModel(cfg.model),
    export=export,
    description="F0 predictor: speech tokens -> voicing and pitch per mel frame (the flow decoder's F0 condition)",
)
