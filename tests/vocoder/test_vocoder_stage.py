"""The vocoder's training stage through the project's one training entry (two steps on three clips)."""

from __future__ import annotations

from deepasmr.train.config import BatchConfig, TrainerConfig
from deepasmr.train.registry import register_stage
from deepasmr.train.runner import train
from deepasmr.vocoder import VocoderConfig, load_vocoder
from deepasmr.vocoder.gan import GANConfig
from deepasmr.vocoder.stage import SPEC, VocoderDataConfig, VocoderModelConfig, tiny


def test_train_two_steps_and_export(manifest, tmp_path):
    register_stage(SPEC)
    cfg = tiny()
    cfg.trainer = TrainerConfig(out_dir=str(tmp_path / "run"), max_steps=2, ckpt_every_n_steps=100,
                                log_every_n_steps=1, grad_clip=0.0, num_threads=1, progress_bar=False)
    cfg.batch = BatchConfig(max_frames=2 * 16)
    cfg.data = VocoderDataConfig(manifest=str(manifest), segment_frames=16)
    cfg.model = VocoderModelConfig(dim=16, intermediate_dim=32, num_layers=1, gan=GANConfig(
        periods=(2, 3), period_channels=(4, 8), resolutions=((512, 128),), spec_channels=4))
    summary = train("vocoder", cfg)
    assert summary["global_step"] == 2
    vocoder = load_vocoder(VocoderConfig(kind="vocos", weights=tmp_path / "run" / "export"))
    assert vocoder.sample_rate == 22_050
