"""The F0 predictor: the register it reads from a clip, its loss on real labels, and its training stage."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from deepasmr.audio import MEL_PRESETS, load_audio, log_mel
from deepasmr.errors import ModelFilesError
from deepasmr.pitch import PitchConfig, PitchPredictor, load_pitch
from deepasmr.pitch.model import clip_register, speaker_register
from deepasmr.pitch.stage import SPEC, PitchDataConfig, PitchStageConfig
from deepasmr.train.config import BatchConfig, TrainerConfig
from deepasmr.train.registry import register_stage
from deepasmr.train.runner import train
from deepasmr.vocoder.voicing import world_f0

MEL = MEL_PRESETS["tiny"]
SENTENCE = "The quiet river carries soft whispers far into the night."


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, np.ndarray]:
    out = {}
    for name, voice in (("normal", "en-us"), ("whisper", "en-us+whisper")):
        path = tmp_path_factory.mktemp("pitch") / f"{name}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), SENTENCE], check=True, capture_output=True)
        out[name] = load_audio(path, MEL.sample_rate)[0]
    return out


def test_the_register_is_the_clips_mean_pitch_and_a_whisper_has_none(clips):
    cfg = PitchConfig()
    f0 = world_f0(clips["normal"], MEL.sample_rate, MEL)
    register = clip_register(clips["normal"], MEL, cfg)
    voiced = f0[f0 > 0]
    assert voiced.min() < cfg.centre_hz * 2**register < voiced.max()
    assert abs(cfg.centre_hz * 2**register / np.exp(np.log(voiced).mean()) - 1) < 0.01
    assert clip_register(clips["whisper"], MEL, cfg) is None
    assert speaker_register(np.zeros(0), cfg) is None


def _shards(root, clips, ratio: int = 4):
    """A shard folder and a label file from the real clip: its mel frames' F0, made-up tokens."""
    import json

    from safetensors.torch import save_file as save_torch

    root.mkdir()
    f0 = world_f0(clips["normal"], MEL.sample_rate, MEL)
    g = torch.Generator().manual_seed(0)
    tensors, rows, labels = {}, [], {}
    for k, split in enumerate(("train", "train", "train", "dev")):
        uid, n_tok = f"spk_normal_{k}", f0.size // ratio - 2 * k
        tensors[f"{uid}/mel"] = log_mel(clips["normal"], MEL)[:, : n_tok * ratio].half().contiguous()
        tensors[f"{uid}/tokens"] = torch.randint(1000, (n_tok,), generator=g, dtype=torch.int32)
        tensors[f"{uid}/spk"] = torch.zeros(256)
        tensors[f"{uid}/phones"] = torch.arange(5, dtype=torch.int32)
        labels[f"{uid}.f0"], labels[uid] = f0[: n_tok * ratio], (f0[: n_tok * ratio] <= 0).astype(np.uint8)
        rows.append(dict(id=uid, speaker="spk", style="normal", language="en", text="t", split=split,
                         n_frames=n_tok * ratio, n_tokens=n_tok, shard="shard-00000.safetensors"))
    save_torch(tensors, str(root / "shard-00000.safetensors"))
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "meta.json").write_text(json.dumps({"frames_per_token": ratio, "mel": MEL.to_dict()}))
    save_file(labels, str(root / "labels.safetensors"))
    return root, root / "labels.safetensors", f0


def test_the_predictor_learns_a_clips_voicing_and_pitch(clips, tmp_path):
    _, labels, f0 = _shards(tmp_path / "shards", clips)
    torch.manual_seed(0)
    model = PitchPredictor(PitchConfig(dim=32, layers=2))
    tokens = torch.randint(1000, (f0.size // 4,))
    batch = {"tokens": tokens[None], "token_lens": torch.tensor([tokens.numel()]),
             "f0": torch.from_numpy(f0[: tokens.numel() * 4])[None]}
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = float(model(batch).detach())
    for _ in range(150):
        opt.zero_grad()
        model(batch).backward()
        opt.step()
    assert float(model(batch).detach()) < 0.5 * first
    register = speaker_register(f0, model.cfg)
    out = model.generate(tokens, register).numpy()
    truth = batch["f0"][0].numpy()
    assert out.shape == truth.shape
    assert np.mean((out > 0) == (truth > 0)) > 0.85
    both = (out > 0) & (truth > 0)
    assert np.mean(np.abs(np.log2(out[both] / truth[both])) < np.log2(1.2)) > 0.8


def test_train_entry_two_steps_export_and_missing_files(clips, tmp_path):
    shards, labels, _ = _shards(tmp_path / "shards", clips)
    register_stage(SPEC)
    cfg = PitchStageConfig(
        trainer=TrainerConfig(out_dir=str(tmp_path / "run"), max_steps=2, ckpt_every_n_steps=100,
                              log_every_n_steps=1, num_threads=1, progress_bar=False),
        batch=BatchConfig(max_frames=2_000),
        data=PitchDataConfig(shard_dir=str(shards), pitch_labels=str(labels)),
        model=PitchConfig(dim=16, layers=1),
    )
    assert train("pitch", cfg)["global_step"] == 2
    model = load_pitch(tmp_path / "run" / "export")
    assert model.generate(torch.arange(10), 0.0).shape == (40,)
    with pytest.raises(ModelFilesError, match="pitch.json"):
        load_pitch(tmp_path)


def test_calibration_matches_the_predicted_voiced_share_to_pyins(clips, tmp_path):
    """deepasmr.pitch.calibrate: the threshold is set on the training utterances so that the predictor calls as
    many frames voiced as PYIN does; generate then voices that share."""
    from deepasmr.data.shards import ShardReader
    from deepasmr.pitch import save_pitch
    from deepasmr.pitch.calibrate import main as calibrate
    from deepasmr.vocoder.voicing import frame_labels

    shards, _, _ = _shards(tmp_path / "shards", clips)
    unvoiced, _ = frame_labels(clips["normal"], MEL.sample_rate, MEL)
    rows = [r for r in ShardReader(shards).index if r["split"] == "train"]
    save_file({r["id"]: unvoiced.astype(np.uint8) for r in rows}, str(tmp_path / "pyin.safetensors"))
    torch.manual_seed(0)
    save_pitch(PitchPredictor(PitchConfig(dim=16, layers=1)), tmp_path / "pitch")
    assert calibrate(["--model", str(tmp_path / "pitch"), "--shards", str(shards),
                      "--pyin-labels", str(tmp_path / "pyin.safetensors")]) == 0
    model, reader = load_pitch(tmp_path / "pitch"), ShardReader(shards)
    voiced = [model.generate(reader[r["id"]]["tokens"].reshape(-1), 0.0) > 0 for r in rows]
    target = np.mean([1 - unvoiced[: v.numel()].mean() for v in voiced])
    assert model.cfg.voiced_threshold != 0.0
    assert abs(float(torch.cat(voiced).float().mean()) - target) < 0.02
