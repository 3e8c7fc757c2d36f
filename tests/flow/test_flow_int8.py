"""Decoder weights stored as int8 (deepasmr.int8): exact round-trip bounds, and the shipped decoder's output kept."""

from __future__ import annotations

import pytest
import torch

from deepasmr.errors import ModelFilesError
from deepasmr.flow.io import WEIGHTS_NAME, load_flow, save_flow
from deepasmr.int8 import SCALE_SUFFIX, dequantize, quantize


def test_each_row_comes_back_within_half_a_step_of_its_own_scale():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 96, generator=g) * torch.logspace(-3, 1, 64)[:, None]  # rows of very different size
    conv = torch.randn(32, 16, 9, generator=g)
    state = {"w": w, "conv": conv, "bias": torch.randn(64, generator=g), "small": torch.randn(4, 4, generator=g),
             "ids": torch.arange(8192).reshape(64, 128)}
    q = quantize(state)
    assert q["w"].dtype == torch.int8 and q["conv"].dtype == torch.int8
    assert {"bias", "small", "ids"}.isdisjoint(k[: -len(SCALE_SUFFIX)] for k in q if k.endswith(SCALE_SUFFIX))
    back = dequantize(q)
    for name, t in (("w", w), ("conv", conv)):
        step = t.reshape(t.shape[0], -1).abs().amax(dim=1) / 127
        err = (back[name] - t).reshape(t.shape[0], -1).abs().amax(dim=1)
        assert torch.all(err <= step / 2 * (1 + 1e-5)), name
        assert torch.equal(back[name].reshape(t.shape[0], -1).abs().amax(dim=1), step * 127)  # row maxima exact
    for name in ("bias", "small", "ids"):
        assert back[name] is state[name]
    assert dequantize(state) == state  # a state without scales passes through


def test_inconsistent_states_are_refused():
    q = quantize({"w": torch.randn(8, 1024)})
    with pytest.raises(ValueError, match="already"):
        quantize(q)
    with pytest.raises(ValueError, match="without its tensor"):
        dequantize({"v" + SCALE_SUFFIX: q["w" + SCALE_SUFFIX]})
    with pytest.raises(ValueError, match="does not fit"):
        dequantize({"w": q["w"], "w" + SCALE_SUFFIX: q["w" + SCALE_SUFFIX][:4]})


def test_the_shipped_decoder_stored_as_int8_writes_nearly_the_same_mel(tmp_path, shipped_decoder_case):
    bundle, prompt, tokens = shipped_decoder_case
    save_flow(bundle.flow, tmp_path / "int8", int8=True)
    fp16_bytes = (bundle.root / WEIGHTS_NAME).stat().st_size
    assert (tmp_path / "int8" / WEIGHTS_NAME).stat().st_size < 0.6 * fp16_bytes
    small = load_flow(tmp_path / "int8")
    ref = bundle.flow.generate(tokens, prompt, steps=3, seed=0)
    out = small.generate(tokens, prompt, steps=3, seed=0)
    other_seed = bundle.flow.generate(tokens, prompt, steps=3, seed=1)
    drift = float((out - ref).abs().mean() / ref.std())
    # Measured 0.0076 on the normal decoder (bf16 compute: 0.005); another seed moves the mel by ~0.2.
    assert 0 < drift < 0.02, f"int8 drift {drift:.4f} of the mel's spread"
    assert drift < 0.1 * float((other_seed - ref).abs().mean() / ref.std())


def test_a_damaged_int8_file_is_a_model_files_error(tmp_path):
    from safetensors.torch import load_file, save_file

    from deepasmr.flow import FlowDecoder, flow_config

    save_flow(FlowDecoder(flow_config("tiny", dim=64, depth=2, heads=2, cond_dim=32, token_dim=32,
                                      conv_pos_groups=8)), tmp_path, int8=True)
    state = load_file(str(tmp_path / WEIGHTS_NAME))
    name = next(k for k in state if k.endswith(SCALE_SUFFIX))
    state[name] = state[name][:1]
    save_file(state, str(tmp_path / WEIGHTS_NAME))
    with pytest.raises(ModelFilesError, match="does not fit"):
        load_flow(tmp_path)
