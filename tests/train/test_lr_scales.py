"""A model may ask the training entry for a multiple of the learning rate on some of its parameters."""

from __future__ import annotations

from torch import nn

from deepasmr.train.config import OptimConfig
from deepasmr.train.module import StageModule


class Headed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body, self.head = nn.Linear(4, 4), nn.Linear(4, 1)

    def lr_scales(self) -> dict[str, float]:
        return {"head.": 10.0}


def _lrs(module: StageModule) -> dict[int, float]:
    opt = module.configure_optimizers()["optimizer"]
    return {id(p): group["lr"] for group in opt.param_groups for p in group["params"]}


def test_the_scaled_prefix_gets_its_multiple_and_the_rest_the_base_rate():
    model = Headed()
    lrs = _lrs(StageModule(model, OptimConfig(lr=1e-3, warmup_steps=0, schedule="constant"), max_steps=10))
    assert all(abs(lrs[id(p)] - 1e-2) < 1e-12 for p in model.head.parameters())
    assert all(abs(lrs[id(p)] - 1e-3) < 1e-12 for p in model.body.parameters())


def test_weight_decay_still_skips_biases_and_a_plain_model_keeps_one_rate():
    plain = nn.Sequential(nn.Linear(3, 3))
    opt = StageModule(plain, OptimConfig(lr=2e-3, weight_decay=0.1), max_steps=10).configure_optimizers()["optimizer"]
    decay = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert decay[id(plain[0].weight)] == 0.1 and decay[id(plain[0].bias)] == 0.0
    assert {g["initial_lr"] for g in opt.param_groups} == {2e-3}  # before the schedule's factor
