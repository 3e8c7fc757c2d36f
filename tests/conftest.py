"""Shared fixtures: a tiny real corpus synthesised through deepasmr.data, a real tiny model bundle built from it
(`bundle_dir`, used by the pipeline and serving tests), and a one-line wav maker.

The bundle: tokenizer = the trained one of models/tiny (copied); pools built from the tiny corpus with that
tokenizer; LM and flow decoder built at test width and saved *initialised* (untrained) through their own io
modules — tests using it check wiring (routing, shapes, joining, errors, serving), not the quality of the speech.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """Path to manifest.jsonl of a tiny real corpus (5 speakers: 3 en incl. flite/festival/espeak, 2 zh;
    normal + asmr; 3 utterances per style per speaker, 2 sentences in both styles; train/dev/test splits
    by speaker; splits.json beside it). Audio paths in the manifest are relative to its folder."""
    from deepasmr.data.tiny import build_tiny_corpus

    return build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))


REPO = Path(__file__).resolve().parents[1]
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
    import torch

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
def shipped_decoder_case():
    """(the embedded bundle, a speaker-prompt mel, 60 tokens) for checks of the shipped decoder's output: the
    default voice's normal clip as the prompt, and the tokens of its speaker's real whisper."""
    import json

    import torch

    from deepasmr.audio import load_audio, log_mel
    from deepasmr.pipeline import load_bundle

    bundle = load_bundle()
    voice = json.loads((bundle.root / "voices" / "default.json").read_text())
    sr, mel = bundle.mel_config.sample_rate, bundle.mel_config
    prompt = log_mel(load_audio(bundle.root / "voices" / voice["audio"], sr)[0], mel)[:, :200]
    target = log_mel(load_audio(bundle.root / "voices" / voice["reference_asmr"], sr)[0], mel)
    with torch.no_grad():
        tokens = bundle.tokenizer.encode(target)[0][:60].long()
    return bundle, prompt, tokens


@pytest.fixture
def synth_wav(tmp_path):
    """make(text="...", name="x.wav", voice="slt"|espeak voice like "en-us+whisper") -> Path of a real wav
    (flite voices at 16 kHz, espeak at 22.05 kHz) in this test's tmp_path."""

    def make(text: str = "The quiet garden was full of yellow flowers.", name: str = "speech.wav",
             voice: str = "slt") -> Path:
        path = tmp_path / name
        if voice in ("kal", "kal16", "awb", "rms", "slt"):
            cmd = ["flite", "-voice", voice, "-t", text, "-o", str(path)]
        else:
            cmd = ["espeak-ng", "-v", voice, "-w", str(path), text]
        subprocess.run(cmd, check=True, capture_output=True)
        return path

    return make


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Every test single-threaded: the CI machine has 2 shared cores, and one thread keeps float results
    reproducible for the exact-equality checks (cached vs uncached decoding, batched vs single CFG)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
