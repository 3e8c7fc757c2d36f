"""A real 2-process DDP job on CPU (gloo) through the CLI: both ranks must end with identical weights
after training on different shards of the data."""

import json
import os
import subprocess
import sys


def test_two_process_ddp_ranks_agree(tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "deepasmr", "train", "toy", "--set", f"trainer.out_dir={out}",
           "--set", "trainer.progress_bar=false", "--set", "trainer.accelerator=cpu", "--set", "trainer.devices=2",
           "--set", "trainer.strategy=ddp", "--set", "trainer.max_steps=6", "--set", "trainer.ckpt_every_n_steps=3"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MASTER_PORT": str(29500 + os.getpid() % 1000)}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (json.loads((out / "ranks" / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["world_size"] == r1["world_size"] == 2
    assert r0["global_step"] == r1["global_step"] == 6
    assert r0["weights_sha256"] == r1["weights_sha256"]
    assert r0["data_sha256"] != r1["data_sha256"]  # each rank trained on its own shard
