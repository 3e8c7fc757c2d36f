import math

import torch

from deepasmr.audio import MelConfig
from deepasmr.tokenizer.dataset import mel_of_file, read_rows
from deepasmr.tokenizer.io import load_tokenizer, save_tokenizer
from deepasmr.train.plots import read_metrics


def test_trains_on_real_clips_and_loss_decreases(trained_tokenizer):
    out, summary = trained_tokenizer
    assert summary["global_step"] == 12
    losses = read_metrics(out / "logs")["train/loss"]
    steps = sorted(losses)
    first, last = sum(losses[s] for s in steps[:3]) / 3, sum(losses[s] for s in steps[-3:]) / 3
    assert last < first, losses
    assert (out / "loss_curves.png").stat().st_size > 0


def test_export_loads_offline_and_encodes(trained_tokenizer, tiny_corpus):
    out, _ = trained_tokenizer
    model, vocab, meta = load_tokenizer(out / "export")
    assert meta["codebook_size"] == 1000 and abs(meta["token_rate_hz"] - 22_050 / 256 / 4) < 1e-6
    assert meta["dtype"] in ("float16", "float32") and len(vocab) > 10
    row = read_rows(tiny_corpus)[0]
    mel = mel_of_file(row["path"], MelConfig(**meta["mel"]))
    tokens = model.encode(mel)[0]
    assert len(tokens) == math.ceil(math.ceil(mel.shape[1] / 2) / 2)
    assert tokens.dtype == torch.int64 and int(tokens.min()) >= 0 and int(tokens.max()) < 1000
    assert torch.equal(tokens, model.encode(mel)[0])  # eval mode: deterministic
    phones = model.tokens_to_phone_ids([tokens])[0]
    assert all(0 < p < len(vocab) for p in phones)
    assert len(model.tokens_to_style([tokens])) == 1


def test_fp16_falls_back_to_fp32_when_tokens_change(trained_tokenizer, tmp_path, monkeypatch):
    import deepasmr.tokenizer.io as tio

    out, _ = trained_tokenizer
    model, vocab, _ = load_tokenizer(out / "export")
    mel = torch.randn(80, 200)
    monkeypatch.setattr(tio, "FP16_MIN_AGREEMENT", 1.01)  # impossible: must keep fp32
    save_tokenizer(model, vocab, tmp_path / "a", check_mels=[mel])
    _, _, meta = load_tokenizer(tmp_path / "a")
    assert meta["dtype"] == "float32"
