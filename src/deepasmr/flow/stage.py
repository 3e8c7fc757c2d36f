"""`deepasmr train flow`: the decoder's entry in the shared training registry (deepasmr.train).

Registry line: `"flow": "deepasmr.flow.stage:SPEC"`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch
from torch import nn

from deepasmr.data.shards import ShardReader
from deepasmr.errors import DataError
from deepasmr.flow.config import FLOW_PRESETS, FlowConfig
from deepasmr.flow.data import FlowDataConfig, FlowDataset, check_compatible, collate, pitch_labels, token_phones
from deepasmr.flow.decoder import FlowDecoder
from deepasmr.flow.io import load_flow, save_flow
from deepasmr.train.config import BatchConfig, OptimConfig, TrainerConfig
from deepasmr.train.data import FrameDataModule
from deepasmr.train.registry import StageSpec


@dataclass
class FlowStageConfig:
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    data: FlowDataConfig = field(default_factory=FlowDataConfig)
    model: FlowConfig = field(default_factory=FlowConfig)
    # Fine-tuning: a folder with an exported decoder (flow.json + flow.safetensors) to start from. `model`
    # must describe the same network; its training and inference knobs are the ones the run uses.
    init_from: str | None = None
    # Train only the decoder's parameters under these name prefixes (empty: all). ["net.pitch_proj."] adds F0 to
    # a trained decoder without changing anything it does when not told F0 (whispers keep their output exactly).
    train_only: list[str] = field(default_factory=list)


def tiny_preset() -> FlowStageConfig:
    # CPU-sized: ~8M parameters, ~4k frames (~45 s of audio) per batch, a few seconds per step on
    # 2 cores, so a few thousand steps (~100 epochs of the 0.5 h corpus) is an overnight run.
    return FlowStageConfig(
        trainer=TrainerConfig(out_dir="runs/flow_tiny", max_steps=6_000, ckpt_every_n_steps=500, num_threads=2),
        optim=OptimConfig(lr=5e-4, warmup_steps=1_000),
        batch=BatchConfig(max_frames=4_000),
        model=FLOW_PRESETS["tiny"],
    )


def paper_preset() -> FlowStageConfig:
    # The paper's decoder size; batches as in DESIGN.md (23k frames, accumulation 2), GPU-scale LR.
    return FlowStageConfig(
        trainer=TrainerConfig(out_dir="runs/flow_paper", max_steps=400_000, accumulate_grad_batches=2,
                              ckpt_every_n_steps=5_000, strategy="ddp"),
        optim=OptimConfig(lr=1e-4, warmup_steps=10_000),
        batch=BatchConfig(max_frames=23_000, num_workers=4),
        model=FLOW_PRESETS["paper"],
    )


class FlowDataModule(FrameDataModule):
    def __init__(self, cfg: FlowStageConfig) -> None:
        super().__init__(cfg.batch, cfg.trainer.seed)
        self.cfg = cfg
        mel = cfg.model.mel
        self.collate = partial(collate, log_floor=mel.log_floor, frame_rate=mel.frame_rate)

    def build_datasets(self):
        d = self.cfg.data
        reader = ShardReader(d.shard_dir)
        check_compatible(reader, self.cfg.model)
        # A shard folder extracted without the dev split simply trains without validation.
        has_val = d.val_split and any(r.get("split") == d.val_split for r in reader.index)
        splits = [d.train_split, d.val_split] if has_val else [d.train_split]
        phones = token_phones(d.shard_dir, splits, d.alignment_tokenizer) if d.alignment_tokenizer else None
        f0 = pitch_labels(d.pitch_labels) if d.pitch_labels else None
        train = FlowDataset(reader, d.train_split, d.prompt_pairing, d.max_items, phones, f0)
        val = FlowDataset(reader, d.val_split, d.prompt_pairing, d.max_items, phones, f0) if has_val else None
        return train, val


class FlowTrainModel(nn.Module):
    """Adapter to the entry's contract (`forward(batch) -> {"loss": ...}`); the decoder itself returns
    the loss tensor. Exported weights are the decoder's own state dict (no prefix)."""

    def __init__(self, cfg: FlowConfig) -> None:
        super().__init__()
        self.decoder = FlowDecoder(cfg)

    def forward(self, batch: dict) -> dict:
        loss = self.decoder(batch)
        if self.training and not loss.requires_grad:
            # train_only parameters this batch did not reach (e.g. the F0 projection when every item's F0 was
            # dropped): a zero that keeps the graph, so the step is a no-op instead of an error.
            loss = loss + sum(p.sum() * 0.0 for p in self.parameters() if p.requires_grad)
        return {"loss": loss}

    def lr_scales(self) -> dict[str, float]:
        """For the training entry's optimizer: the learning-rate multiple of the inputs a trained decoder may gain
        at zero (the phone table, the F0 projection), which must grow within a fine-tuning run."""
        scale = self.decoder.cfg.phone_lr_scale
        return {"decoder.net.tokens.phones.": scale, "decoder.net.pitch_proj.": scale}


def _phone_vocab(cfg: FlowStageConfig) -> tuple[str, ...]:
    """The decoder's phone symbols: the config's, else (with an alignment tokenizer) the shards'."""
    from deepasmr.lm.data import shard_phone_vocab

    if cfg.model.phone_vocab or not cfg.data.alignment_tokenizer:
        return cfg.model.phone_vocab
    return tuple(shard_phone_vocab(cfg.data.shard_dir))


def build_model(cfg: FlowStageConfig, datamodule) -> FlowTrainModel:
    model = FlowTrainModel(cfg.model.with_(phone_vocab=_phone_vocab(cfg)))
    if cfg.init_from:
        start = load_flow(cfg.init_from).state_dict()
        ours = model.decoder.state_dict()
        # A phone table or F0 projection the start lacks begins at zero (layers.TokenEncoder, transformer): the
        # start's behaviour is kept.
        added = {k for k in ours.keys() - start.keys() if k.startswith(("net.tokens.phones.", "net.pitch_proj."))}
        wrong = sorted(k for k in (ours.keys() | start.keys()) - added
                       if k not in ours or k not in start or ours[k].shape != start[k].shape)
        if wrong:
            raise DataError(f"{cfg.init_from} is not the network `model` describes ({len(wrong)} "
                            f"mismatched tensors, e.g. {wrong[0]})")
        model.decoder.load_state_dict(start, strict=not added)
    if cfg.train_only:
        prefixes = tuple(cfg.train_only)
        for name, p in model.decoder.named_parameters():
            p.requires_grad_(name.startswith(prefixes))
        if not any(p.requires_grad for p in model.parameters()):
            raise DataError(f"train_only {list(prefixes)} names none of the decoder's parameters")
    return model


def export(model: FlowTrainModel, cfg: FlowStageConfig, datamodule, out_dir: Path) -> None:
    save_flow(model.decoder.to(torch.float32), out_dir)


SPEC = StageSpec(
    name="flow",
    config_cls=FlowStageConfig,
    presets={"tiny": tiny_preset, "paper": paper_preset},
    build_data=FlowDataModule,
    build_model=build_model,
    export=export,
    description="conditional flow-matching decoder: speech tokens + speaker prompt -> log-mel",
)
