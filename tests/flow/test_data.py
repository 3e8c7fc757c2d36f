"""Feature-shard dataset, prompt pairing, collate, and the `deepasmr train flow` stage end to end."""

from __future__ import annotations

import pytest
import torch
import yaml
from flow_helpers import write_shards

from deepasmr.data.shards import ShardReader
from deepasmr.errors import DataError
from deepasmr.flow import FlowDecoder
from deepasmr.flow.data import FlowDataset, check_compatible, collate, mel_stats, pair_candidates
from deepasmr.flow.io import load_flow


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory, clip_mel):
    root = tmp_path_factory.mktemp("shards")
    write_shards(root, clip_mel)
    return root


def test_pairing_same_and_other_style():
    rows = [dict(speaker=s, style=st) for s in "ab" for st in ("normal", "asmr") for _ in range(2)]
    same = pair_candidates(rows, "same_style")
    other = pair_candidates(rows, "other_style")
    for i, r in enumerate(rows):
        assert i not in same[i] and len(same[i]) == 1
        assert all(rows[j]["speaker"] == r["speaker"] and rows[j]["style"] == r["style"] for j in same[i])
        assert len(other[i]) == 2
        assert all(rows[j]["speaker"] == r["speaker"] and rows[j]["style"] != r["style"] for j in other[i])
    assert pair_candidates(rows, "none") == [[]] * len(rows)
    with pytest.raises(DataError):
        pair_candidates(rows, "sideways")


def test_dataset_and_collate(shard_dir, small_cfg):
    reader = ShardReader(shard_dir)
    ds = FlowDataset(reader, "train", pairing="other_style")
    assert len(ds) == 6 and ds.lengths == [r["n_frames"] for r in ds.rows]
    torch.manual_seed(0)
    items = [ds[i] for i in range(3)]
    assert items[0]["mel"].dtype == torch.float16 and items[0]["mel"].shape[0] == 80
    batch = collate(items, small_cfg.mel.log_floor, small_cfg.mel.frame_rate)
    assert batch["mel"].shape == (3, 80, int(batch["mel_lens"].max()))
    assert batch["tokens"].shape[1] == int(batch["token_lens"].max())
    assert batch["spk_emb"].shape == (3, 256)
    assert batch["prompt_mel"].shape[0] == 3 and (batch["prompt_mel_lens"] > 0).all()
    assert batch["prompt_spk_emb"].shape == (3, 256)
    assert torch.isfinite(FlowDecoder(small_cfg.with_(separate_prompt_prob=1.0))(batch))
    mean, std = mel_stats(ds)
    assert -12 < mean < 2 and 0 < std < 6


def test_incompatible_shards_are_refused(shard_dir, small_cfg):
    reader = ShardReader(shard_dir)
    check_compatible(reader, small_cfg)
    with pytest.raises(DataError, match="frames per token"):
        check_compatible(reader, small_cfg.with_(token_ratio=2))
    with pytest.raises(DataError, match="mel"):
        check_compatible(reader, small_cfg.with_(mel_preset="paper"))


def test_train_entry_runs_flow_stage(shard_dir, small_cfg, tmp_path):
    from deepasmr.flow.stage import SPEC, FlowStageConfig
    from deepasmr.train.config import load_config
    from deepasmr.train.registry import register_stage
    from deepasmr.train.runner import train

    register_stage(SPEC)  # until the registry's STAGES names "flow"
    config = tmp_path / "flow.yaml"
    config.write_text(yaml.safe_dump({"preset": "tiny", "model": small_cfg.to_dict()}))
    overrides = [f"data.shard_dir={shard_dir}", f"trainer.out_dir={tmp_path / 'run'}", "trainer.max_steps=3",
                 "trainer.progress_bar=false", "trainer.num_threads=1", "trainer.accelerator=cpu",
                 "trainer.log_every_n_steps=1", "batch.max_frames=600", "data.prompt_pairing=other_style",
                 "model.separate_prompt_prob=0.5"]
    cfg = load_config(FlowStageConfig, SPEC.presets, config, overrides)
    assert cfg.model == small_cfg.with_(separate_prompt_prob=0.5)
    summary = train("flow", cfg)
    assert summary["global_step"] == 3
    model = load_flow(tmp_path / "run" / "export")
    assert model.cfg == cfg.model
    assert model.generate(torch.randint(100, (5,)), torch.zeros(80, 8) - 5, steps=1).shape == (80, 20)

    # Fine-tuning (configs/flow_tiny_v2.yaml): start from that export; with lr 0 the weights come through.
    tuned = load_config(FlowStageConfig, SPEC.presets, config, [*overrides, f"init_from={tmp_path / 'run' / 'export'}",
                                                                  f"trainer.out_dir={tmp_path / 'tuned'}",
                                                                  "trainer.max_steps=1", "optim.lr=0"])
    train("flow", tuned)
    for (name, a), b in zip(model.state_dict().items(), load_flow(tmp_path / "tuned" / "export").state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name
    wider = load_config(FlowStageConfig, SPEC.presets, config, [*overrides, f"init_from={tmp_path / 'run' / 'export'}",
                                                                  f"trainer.out_dir={tmp_path / 'wider'}",
                                                                  "model.dim=64"])
    with pytest.raises(DataError, match="not the network"):
        train("flow", wider)
