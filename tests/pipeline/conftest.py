"""A real tiny bundle for the pipeline tests, built once per session.

Tokenizer: the trained one of models/tiny (copied). Pools: built from the tiny corpus with that tokenizer.
LM and flow decoder: built at test width and saved *initialised* (untrained) through their own io modules —
these tests check the pipeline's wiring (routing, shapes, joining, errors), not the quality of the speech.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "models" / "tiny"
# Test width: ~100k-parameter LM, ~1M-parameter decoder; short token budgets keep a sentence under a second.
LM_SHAPE = dict(hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2, intermediate_size=128,
                max_tokens_per_text=2.0)
FLOW_SHAPE = dict(dim=64, depth=2, heads=2, ff_mult=2.0, cond_dim=32, token_dim=32, token_conv_layers=1,
                  conv_pos_groups=8, max_train_frames=256, steps=4)
POOL_PER_STYLE = 4
SEED = 0


def _phones(manifest: Path) -> list[str]:
    from deepasmr.data.manifest import read_manifest
    from deepasmr.lm.text import PhoneTokenizer

    rows = read_manifest(manifest)
    return PhoneTokenizer.vocabulary(r["phonemes"].split() for r in rows)


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory, tiny_corpus) -> Path:
    from deepasmr.flow import FlowDecoder, flow_config
    from deepasmr.flow.io import save_flow
    from deepasmr.lm import SpeechLM, lm_preset
    from deepasmr.lm.io import save_lm
    from deepasmr.speaker.pool import PoolConfig
    from deepasmr.speaker.pool_build import build_from_corpus

    if not (TINY / "tokenizer.safetensors").is_file():
        pytest.skip("models/tiny has no trained tokenizer")
    root = tmp_path_factory.mktemp("bundle")
    for name in ("tokenizer.json", "tokenizer.safetensors"):
        shutil.copy(TINY / name, root / name)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(SEED)
        lm_cfg = lm_preset("tiny", **LM_SHAPE).with_phones(_phones(tiny_corpus))
        save_lm(SpeechLM.from_config(lm_cfg), root)
        save_flow(FlowDecoder(flow_config("tiny", **FLOW_SHAPE)), root)
        build_from_corpus(tiny_corpus, root / "pools", PoolConfig(per_style=POOL_PER_STYLE), tokenizer=root)
    finally:
        torch.set_num_threads(threads)
    return root


@pytest.fixture(scope="session")
def engine(bundle_dir):
    from deepasmr.pipeline import DeepASMR

    return DeepASMR.load(bundle_dir)


@pytest.fixture(scope="session")
def voice_clip(tmp_path_factory) -> Path:
    """A normal-voice clip of an unseen speaker (flite awb, 16 kHz)."""
    path = tmp_path_factory.mktemp("voice") / "awb.wav"
    subprocess.run(["flite", "-voice", "awb", "-t", "The little boat drifted slowly across the lake.",
                    "-o", str(path)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def whisper_clip(tmp_path_factory) -> Path:
    """An ASMR (whispered) clip: espeak-ng's whisper variant."""
    path = tmp_path_factory.mktemp("voice") / "whisper.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+whisper", "-w", str(path),
                    "Close your eyes and listen to the soft rain."], check=True, capture_output=True)
    return path
