"""Build and run one stage's training with Lightning: the same code on 1 CPU or N GPUs x M nodes."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import torch

from deepasmr.train.checkpointing import AtomicCheckpointIO, resume_checkpoint
from deepasmr.train.config import ConfigError, to_yaml
from deepasmr.train.registry import get_stage


def resolve_precision(precision: str, accelerator: str) -> str:
    """`auto`: bf16-mixed where the device computes bf16 natively (a GPU that supports it, or a CPU with AMX /
    AVX-512 BF16: there the LM trains 2.5x and the flow 1.65x faster at the same losses, docs/measurements.md),
    else 32-true."""
    if precision != "auto":
        return precision
    from deepasmr.precision import native_bf16

    on_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return "bf16-mixed" if native_bf16("cuda" if on_gpu else "cpu") else "32-true"


def _loggers(out: Path) -> list:
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    loggers = [CSVLogger(str(out), name="logs")]
    if importlib.util.find_spec("tensorboard") or importlib.util.find_spec("tensorboardX"):
        loggers.append(TensorBoardLogger(str(out), name="tensorboard"))
    return loggers


def build_trainer(cfg: Any, out: Path, extra_callbacks: list = ()):
    from lightning.pytorch import Trainer
    from lightning.pytorch.callbacks import ModelCheckpoint

    tc = cfg.trainer
    ckpt = ModelCheckpoint(
        dirpath=str(out / "checkpoints"), filename="step{step:08d}", auto_insert_metric_name=False,
        every_n_train_steps=tc.ckpt_every_n_steps, save_top_k=tc.keep_checkpoints, monitor="step", mode="max",
        save_last=True, save_on_train_epoch_end=False,
    )
    validate = tc.val_every_n_steps > 0
    return Trainer(
        accelerator=tc.accelerator, devices=tc.devices, num_nodes=tc.num_nodes, strategy=tc.strategy,
        precision=resolve_precision(tc.precision, tc.accelerator),
        max_steps=tc.max_steps, max_epochs=-1,
        max_time={"minutes": tc.max_minutes} if tc.max_minutes > 0 else None,
        accumulate_grad_batches=tc.accumulate_grad_batches,
        gradient_clip_val=tc.grad_clip or None,
        log_every_n_steps=tc.log_every_n_steps,
        val_check_interval=tc.val_every_n_steps * tc.accumulate_grad_batches if validate else None,
        check_val_every_n_epoch=None if validate else 1,
        limit_val_batches=tc.val_batches if validate else 0,
        num_sanity_val_steps=0,
        enable_progress_bar=tc.progress_bar,
        deterministic=tc.deterministic,
        use_distributed_sampler=False,  # our FrameBatchSampler shards by rank itself
        plugins=[AtomicCheckpointIO()],
        callbacks=[ckpt, *extra_callbacks],
        logger=_loggers(out),
        default_root_dir=str(out),
    )


def train(stage: str, cfg: Any, resume: bool = False) -> dict:
    """Train `stage` with `cfg`; returns a summary (rank 0 also writes plots and exported weights)."""
    from lightning.pytorch import seed_everything

    from deepasmr.train.module import StageModule
    from deepasmr.train.plots import plot_loss_curves

    spec = get_stage(stage)
    tc = cfg.trainer
    out = Path(tc.out_dir)
    ckpt_path = resume_checkpoint(out) if resume else None
    if not resume and (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir()):
        raise ConfigError(f"{out} already holds checkpoints: pass --resume to continue, or another out_dir")
    if tc.num_threads > 0:
        torch.set_num_threads(tc.num_threads)
    seed_everything(tc.seed, workers=True, verbose=False)

    datamodule = spec.build_data(cfg)
    model = spec.build_model(cfg, datamodule)
    module = StageModule(model, cfg.optim, tc.max_steps)
    trainer = build_trainer(cfg, out)
    if trainer.is_global_zero:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(f"# stage: {stage}\n# precision: {trainer.precision}\n" + to_yaml(cfg))
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(ckpt_path) if ckpt_path else None)

    summary = {
        "stage": stage, "rank": trainer.global_rank, "world_size": trainer.world_size,
        "global_step": trainer.global_step, "weights_sha256": module.weights_digest(),
        "data_sha256": module.seen_digest(), "resumed_from": str(ckpt_path) if ckpt_path else None,
    }
    ranks = out / "ranks"
    ranks.mkdir(parents=True, exist_ok=True)
    (ranks / f"rank{trainer.global_rank}.json").write_text(json.dumps(summary, indent=1))
    if trainer.is_global_zero:
        plot_loss_curves(out / "logs", out / "loss_curves.png", title=stage)
        if spec.export is not None:
            export_dir = out / "export"
            shutil.rmtree(export_dir, ignore_errors=True)
            spec.export(model, cfg, datamodule, export_dir)
    return summary


def export_checkpoint(stage: str, cfg: Any, ckpt_path: str | Path, out_dir: str | Path) -> Path:
    """Write a stage's exported weights from any training checkpoint (e.g. the latest of a running job)."""
    spec = get_stage(stage)
    if spec.export is None:
        raise ConfigError(f"stage {stage!r} has no export")
    if cfg.trainer.num_threads > 0:
        torch.set_num_threads(cfg.trainer.num_threads)
    datamodule = spec.build_data(cfg)
    model = spec.build_model(cfg, datamodule)
    state = torch.load(str(ckpt_path), map_location="cpu", weights_only=True)["state_dict"]
    model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    datamodule.setup("fit")
    out = Path(out_dir)
    spec.export(model, cfg, datamodule, out)
    return out
