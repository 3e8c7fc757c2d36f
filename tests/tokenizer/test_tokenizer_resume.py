"""Exact resume of the real tokenizer stage: resuming from a mid-epoch checkpoint of a run (as if it had
been killed right after saving it) ends with the same weights as the uninterrupted run."""

import json
import shutil

import pytest

SMALL = ["model.d_model=48", "model.n_heads=2", "model.pre_layers=1", "model.post_layers=1",
         "trainer.log_every_n_steps=1", "trainer.val_every_n_steps=0", "trainer.progress_bar=false",
         "optim.warmup_steps=2"]


@pytest.mark.slow
def test_tokenizer_resume_is_exact(tiny_corpus, tmp_path):
    from deepasmr.train.config import load_config
    from deepasmr.train.registry import get_stage
    from deepasmr.train.runner import train

    spec = get_stage("tokenizer")

    def cfg(out):
        items = [*SMALL, "trainer.max_steps=10", "trainer.ckpt_every_n_steps=5", "batch.max_frames=1500",
                 f"data.manifest={tiny_corpus}", f"trainer.out_dir={out}"]
        return load_config(spec.config_cls, spec.presets, None, items)

    train("tokenizer", cfg(tmp_path / "full"))
    (tmp_path / "cut" / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "full" / "checkpoints" / "step00000005.ckpt", tmp_path / "cut" / "checkpoints" / "last.ckpt")
    train("tokenizer", cfg(tmp_path / "cut"), resume=True)
    a, b = (json.loads((tmp_path / r / "ranks" / "rank0.json").read_text()) for r in ("full", "cut"))
    assert a["global_step"] == b["global_step"] == 10 and a["weights_sha256"] == b["weights_sha256"]
