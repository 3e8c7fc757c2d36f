"""Kill a real training process mid-epoch (SIGKILL after a checkpoint), resume it, and compare with an
uninterrupted run: same final weights, same logged losses, no step lost or repeated."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from deepasmr.train.config import ConfigError, load_config
from deepasmr.train.plots import read_metrics
from deepasmr.train.registry import get_stage
from deepasmr.train.runner import train

ARGS = ["--set", "trainer.progress_bar=false", "--set", "trainer.accumulate_grad_batches=2",
        "--set", "trainer.max_steps=24", "--set", "trainer.ckpt_every_n_steps=3"]


def _cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "deepasmr", "train", "toy", *ARGS, "--set", f"trainer.out_dir={out}", *extra]


def _train_here(out: Path, *extra: str, resume: bool = False) -> dict:
    """Same as the CLI, in this process (saves a slow interpreter start on a busy machine)."""
    spec = get_stage("toy")
    items = [a for a in [*ARGS, *extra] if a != "--set"] + [f"trainer.out_dir={out}"]
    return train("toy", load_config(spec.config_cls, spec.presets, None, items), resume=resume)


def _env() -> dict:
    return {**os.environ, "PYTHONWARNINGS": "ignore"}


def test_kill_and_resume_matches_uninterrupted_run(tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    _train_here(full)

    # The killed run is slowed down per batch so the kill lands mid-epoch, between checkpoints.
    proc = subprocess.Popen(_cmd(cut, "--set", "data.delay_s=0.15"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_env())
    target = cut / "checkpoints" / "step00000009.ckpt"
    deadline = time.time() + 240
    while not target.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # let it train past the checkpoint: those steps must be redone, not skipped
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.exists()
    last = torch.load(cut / "checkpoints" / "last.ckpt", weights_only=True)
    assert 9 <= last["global_step"] < 24
    sampler_state = last["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    assert 0 < sampler_state["consumed"] < sampler_state["n_batches"]  # killed mid-epoch

    _train_here(cut, resume=True)
    a = json.loads((full / "ranks" / "rank0.json").read_text())
    b = json.loads((cut / "ranks" / "rank0.json").read_text())
    assert b["resumed_from"] and a["global_step"] == b["global_step"] == 24
    assert a["weights_sha256"] == b["weights_sha256"]
    la, lb = read_metrics(full / "logs")["train/loss"], read_metrics(cut / "logs")["train/loss"]
    assert sorted(la) == sorted(lb) and all(abs(la[s] - lb[s]) < 1e-7 for s in la)
    assert (cut / "loss_curves.png").stat().st_size > 0


def test_refuses_to_overwrite_without_resume(tmp_path):
    out = tmp_path / "run"
    _train_here(out, "--set", "trainer.max_steps=3")
    with pytest.raises(ConfigError, match="--resume"):
        _train_here(out, "--set", "trainer.max_steps=3")
