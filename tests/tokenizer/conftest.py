"""A tokenizer trained for a few steps on the shared tiny real corpus, reused by the tokenizer tests."""

from __future__ import annotations

import pytest

# Small enough to train a few steps in seconds; the layout is the tiny preset's.
FAST = ["model.d_model=48", "model.n_heads=2", "model.pre_layers=1", "model.post_layers=1",
        "trainer.max_steps=12", "trainer.ckpt_every_n_steps=6", "trainer.log_every_n_steps=1",
        "trainer.val_every_n_steps=0", "trainer.progress_bar=false", "optim.warmup_steps=2", "optim.lr=3e-3",
        "batch.max_frames=3000"]


@pytest.fixture(scope="session")
def trained_tokenizer(tiny_corpus, tmp_path_factory):
    """(run folder, summary) of a short real training run whose export/ holds tokenizer.{json,safetensors}."""
    from deepasmr.train.config import load_config
    from deepasmr.train.registry import get_stage
    from deepasmr.train.runner import train

    out = tmp_path_factory.mktemp("tok_run")
    spec = get_stage("tokenizer")
    cfg = load_config(spec.config_cls, spec.presets, None,
                      [*FAST, f"data.manifest={tiny_corpus}", f"trainer.out_dir={out}"])
    return out, train("tokenizer", cfg)
