import pytest
import torch

from deepasmr.errors import ModelFilesError
from deepasmr.lm import DecodeConfig, LMRequest, generate
from deepasmr.lm.io import load_lm, save_lm


def test_save_load_round_trip_keeps_vocabulary_and_outputs(make_model, tmp_path):
    model = make_model(seed=1)
    save_lm(model, tmp_path / "fp32")
    save_lm(model, tmp_path / "fp16", dtype=torch.float16)
    again = load_lm(tmp_path / "fp32")
    assert again.cfg.phones == model.cfg.phones and again.cfg.backbone == model.cfg.backbone
    request = [LMRequest(text=[3, 4, 5, 6], style="asmr", prompt_speech=[1, 2])]
    greedy = DecodeConfig(greedy=True, max_new_tokens=12)
    assert generate(again, request, greedy).tokens == generate(model, request, greedy).tokens
    half = load_lm(tmp_path / "fp16")  # half-size bundle, loaded back as float32
    assert all(p.dtype == torch.float32 for p in half.parameters())
    assert (tmp_path / "fp16" / "lm.safetensors").stat().st_size < (tmp_path / "fp32" / "lm.safetensors").stat().st_size


def test_missing_files_are_a_clear_error(tmp_path):
    with pytest.raises(ModelFilesError):
        load_lm(tmp_path)
