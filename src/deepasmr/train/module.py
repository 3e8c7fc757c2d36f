"""The one LightningModule every stage trains through.

A stage supplies a plain `nn.Module` whose `forward(batch)` returns a dict with a scalar "loss" (and any
other scalars worth logging). This wrapper adds the optimizer, the warm-up/decay schedule, logging, the
throughput meter and the RNG state that exact resume needs.
"""

from __future__ import annotations

import hashlib
import random
import time

import numpy as np
import torch
from lightning.pytorch import LightningModule
from torch import nn

from deepasmr.train.config import OptimConfig
from deepasmr.train.schedule import lr_lambda


def _rng_state() -> dict:
    # Plain types only, so checkpoints load with torch.load(weights_only=True).
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    numpy_state = [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)]
    state = {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class StageModule(LightningModule):
    def __init__(self, model: nn.Module, optim: OptimConfig, max_steps: int) -> None:
        super().__init__()
        self.model = model
        self.optim_cfg = optim
        self.max_steps = max_steps
        self._pending_rng: dict | None = None
        self._seen = hashlib.sha256()  # which utterances this rank trained on (DDP sharding checks)
        self._tick: float | None = None
        self._last_seconds = 0.0

    def forward(self, batch):
        return self.model(batch)

    def _log_outputs(self, prefix: str, out: dict, batch_size: int) -> None:
        for key, value in out.items():
            if torch.is_tensor(value) and value.dim() == 0:
                on_step = prefix == "train"
                self.log(f"{prefix}/{key}", value.detach().float(), on_step=on_step, on_epoch=not on_step,
                         prog_bar=key == "loss", batch_size=batch_size, sync_dist=not on_step)

    def training_step(self, batch, batch_idx):
        out = self.model(batch)
        size = int(batch.get("batch_size", 1)) if isinstance(batch, dict) else 1
        self._log_outputs("train", out, size)
        self.log("train/lr", self.lr_schedulers().get_last_lr()[0], on_step=True, batch_size=size)
        if isinstance(batch, dict) and "ids" in batch:
            self._seen.update(("\n".join(batch["ids"]) + "\n").encode())
        self._last_seconds = float(batch.get("seconds", 0.0)) if isinstance(batch, dict) else 0.0
        return out["loss"]

    def validation_step(self, batch, batch_idx):
        out = self.model(batch)
        size = int(batch.get("batch_size", 1)) if isinstance(batch, dict) else 1
        self._log_outputs("val", out, size)

    def on_train_batch_start(self, batch, batch_idx) -> None:
        if self._pending_rng is not None:  # restore here: nothing between this and the next forward draws
            _set_rng_state(self._pending_rng)
            self._pending_rng = None
        now = time.perf_counter()
        if self._tick is not None and self._last_seconds:  # previous batch: forward + backward + step
            self.log("train/audio_s_per_s", self._last_seconds / max(now - self._tick, 1e-6), on_step=True,
                     prog_bar=True, batch_size=1)
        self._tick = now

    def configure_optimizers(self):
        # A model may give parameters under a name prefix a multiple of the learning rate (`lr_scales()`,
        # e.g. a fresh head beside a warm-started network, which Adam's step size would otherwise hold back).
        scales = getattr(self.model, "lr_scales", dict)()
        cfg = self.optim_cfg
        groups: dict[tuple[bool, float], list] = {}
        for name, p in self.model.named_parameters():
            if p.requires_grad:
                decays = not (p.dim() < 2 or "norm" in name or "embed" in name)
                scale = next((f for prefix, f in scales.items() if name.startswith(prefix)), 1.0)
                groups.setdefault((decays, scale), []).append(p)
        param_groups = [{"params": params, "weight_decay": cfg.weight_decay if decays else 0.0, "lr": cfg.lr * scale}
                        for (decays, scale), params in groups.items()]
        opt = torch.optim.AdamW(param_groups, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg, self.max_steps))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["rng_state"] = _rng_state()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._pending_rng = checkpoint.get("rng_state")

    def weights_digest(self) -> str:
        h = hashlib.sha256()
        for name, tensor in sorted(self.model.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()

    def seen_digest(self) -> str:
        return self._seen.hexdigest()
