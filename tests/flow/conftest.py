"""Shared fixtures: the real log-mel of a synthesised clip, and a test-sized decoder config."""

from __future__ import annotations

import pytest
import torch
from flow_helpers import synth_mel

from deepasmr.flow import FlowConfig, flow_config


@pytest.fixture(scope="session")
def clip_mel(tmp_path_factory) -> torch.Tensor:
    """[80, T] log-mel (22.05 kHz, hop 256) of an espeak-ng sentence, ~3 s."""
    return synth_mel(tmp_path_factory.mktemp("flow_clip"))


@pytest.fixture(scope="session")
def small_cfg() -> FlowConfig:
    """The tiny preset at test width (~1M parameters) so that 30 CPU steps take seconds."""
    return flow_config(
        "tiny", dim=128, depth=4, heads=2, ff_mult=2.0, cond_dim=64, token_dim=64, token_conv_layers=1,
        conv_pos_groups=8, max_train_frames=256,
    )


