"""A LightningDataModule base that serves frame-batched, rank-sharded, resumable loaders.

Subclasses provide datasets with a `lengths` attribute (frames per item, the batching cost) and a
`collate` function; this class wires in `FrameBatchSampler` and `ResumableDataLoader`.
"""

from __future__ import annotations

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Dataset

from deepasmr.train.config import BatchConfig
from deepasmr.train.sampler import FrameBatchSampler, ResumableDataLoader


class FrameDataModule(LightningDataModule):
    def __init__(self, batch: BatchConfig, seed: int) -> None:
        super().__init__()
        self.batch_cfg = batch
        self.seed = seed
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None

    # -- subclasses -------------------------------------------------------------------------------------
    def build_datasets(self) -> tuple[Dataset, Dataset | None]:
        raise NotImplementedError

    def collate(self, items: list) -> dict:
        raise NotImplementedError

    # -- Lightning ----------------------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            self.train_set, self.val_set = self.build_datasets()

    def _rank_world(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def _consumed(self) -> int:
        # Batches of the current epoch the fit loop has taken (prefetched ones excluded).
        return self.trainer.fit_loop.epoch_loop.batch_progress.current.ready

    def train_dataloader(self) -> DataLoader:
        rank, world = self._rank_world()
        cfg = self.batch_cfg
        sampler = FrameBatchSampler(self.train_set.lengths, cfg.max_frames, max_batch_size=cfg.max_batch_size,
                                    shuffle=cfg.shuffle, seed=self.seed, rank=rank, world_size=world)
        return ResumableDataLoader(
            self.train_set, sampler, self._consumed, collate_fn=self.collate, num_workers=cfg.num_workers,
            # Own generator: creating the iterator must not draw from the global RNG (exact resume).
            generator=torch.Generator().manual_seed(self.seed),
            persistent_workers=cfg.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader:
        if self.val_set is None:
            return []
        rank, world = self._rank_world()
        sampler = FrameBatchSampler(self.val_set.lengths, self.batch_cfg.max_frames,
                                    max_batch_size=self.batch_cfg.max_batch_size, shuffle=False,
                                    rank=rank, world_size=world)
        return DataLoader(self.val_set, batch_sampler=sampler, collate_fn=self.collate,
                          generator=torch.Generator().manual_seed(self.seed))
