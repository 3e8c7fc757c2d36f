"""Training pairs over a feature-shard folder, and one short run through `deepasmr train lm`."""

import json
from dataclasses import replace

import pytest
import torch
from safetensors.torch import save_file

from deepasmr.lm.data import LMDataModule, PairDataset, read_shard_utterances
from deepasmr.lm.io import load_lm
from deepasmr.lm.stage import SPEC, tiny

CODEBOOK = 64
TEXTS = {"en": ["The quiet garden.", "Soft rain at night.", "A small blue boat."],
         "zh": ["今天天气很好。", "我们去公园。", "小猫在睡觉。"]}
SPEAKERS = {"en1": ("en", "train"), "zh1": ("zh", "train"), "en2": ("en", "dev")}


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    g = torch.Generator().manual_seed(0)
    rows, tensors = [], {}
    vocab = ["<blank>", "<unk>", *sorted({c for texts in TEXTS.values() for t in texts for c in t if c.isalpha()})]
    for speaker, (language, split) in SPEAKERS.items():
        for style in ("normal", "asmr"):
            for k, text in enumerate(TEXTS[language]):
                uid = f"{speaker}_{style}_{k}"
                n = 10 + 3 * k
                tensors[f"{uid}/tokens"] = torch.randint(0, CODEBOOK, (n,), generator=g, dtype=torch.int32)
                if speaker != "zh1":  # zh1 has no phone ids: the reader falls back to the frontend
                    ids = [vocab.index(c) for c in text if c in vocab]
                    tensors[f"{uid}/phones"] = torch.tensor(ids, dtype=torch.int32)
                rows.append({"id": uid, "speaker": speaker, "style": style, "language": language, "text": text,
                             "split": split, "n_frames": 4 * n, "n_tokens": n, "shard": "shard-00000.safetensors"})
    save_file(tensors, str(root / "shard-00000.safetensors"))
    (root / "index.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    meta = {"tokenizer": {"codebook_size": CODEBOOK, "token_rate_hz": 21.5, "vocab": vocab}}
    (root / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
    return root


def test_prompts_come_from_the_same_speaker_and_style(shards):
    utts = read_shard_utterances(shards, ["train"])
    assert {u.language for u in utts} == {"en", "zh"} and all(u.phones for u in utts)
    en = next(u for u in utts if u.id == "en1_normal_0")
    assert en.phones == [c for c in en.text if c.isalpha()]  # decoded through meta.json's vocabulary
    data = PairDataset(utts, lambda u: [1] * len(u.phones), no_prompt_prob=0.0, max_prompt_tokens=100)
    for i, u in enumerate(utts):
        assert data.prompts[i] and all(
            utts[j].speaker == u.speaker and utts[j].style == u.style and j != i for j in data.prompts[i])
        item = data[i]
        assert len(item["prompt_speech"]) > 0 and torch.equal(item["speech"], u.tokens)
    style_only = PairDataset(utts, lambda u: [1], no_prompt_prob=1.0, max_prompt_tokens=100)
    assert all(len(style_only[i]["prompt_speech"]) == 0 for i in range(len(utts)))
    too_long = PairDataset(utts, lambda u: [1], no_prompt_prob=0.0, max_prompt_tokens=5)
    assert all(len(too_long[i]["prompt_speech"]) == 0 for i in range(len(utts)))


def test_train_entry_runs_and_exports_a_loadable_model(shards, tmp_path):
    from deepasmr.train.registry import register_stage
    from deepasmr.train.runner import train

    register_stage(SPEC)
    cfg = tiny()
    cfg.data = replace(cfg.data, shards=str(shards))
    cfg.model = replace(cfg.model, hidden_size=64, num_layers=2, intermediate_size=128)
    cfg.trainer = replace(cfg.trainer, out_dir=str(tmp_path / "run"), max_steps=3, val_every_n_steps=2,
                          val_batches=1, progress_bar=False, accelerator="cpu", num_threads=1)
    cfg.optim = replace(cfg.optim, warmup_steps=1)
    summary = train("lm", cfg)
    assert summary["global_step"] == 3
    model = load_lm(tmp_path / "run" / "export")
    assert model.cfg.speech_vocab_size == CODEBOOK and len(model.cfg.phones) > 10

    # Phase 2 as in configs/lm_tiny_v1_guided.yaml: start from that export, with guided attention on.
    cfg2 = tiny()
    cfg2.data = cfg.data
    cfg2.init_from = str(tmp_path / "run" / "export")
    cfg2.model = replace(cfg2.model, guided_attention_weight=1.0, guided_attention_layers=[0, 1])
    cfg2.trainer = replace(cfg.trainer, out_dir=str(tmp_path / "guided"), max_steps=2)
    cfg2.optim = replace(cfg.optim, lr=0.0)  # weights must come through unchanged
    assert train("lm", cfg2)["global_step"] == 2
    tuned = load_lm(tmp_path / "guided" / "export")
    assert tuned.cfg.guided_attention_weight == 1.0 and tuned.cfg.phones == model.cfg.phones
    for (name, a), b in zip(model.state_dict().items(), tuned.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_datamodule_batches_are_model_ready(shards):
    cfg = tiny()
    cfg.data = replace(cfg.data, shards=str(shards))
    dm = LMDataModule(cfg)
    cfg.model = cfg.model.with_phones(dm.phone_symbols())
    train, val = dm.build_datasets()
    batch = dm.collate([train[i] for i in range(4)])
    assert batch["text"].shape[0] == 4 and batch["speech_lens"].tolist() == [len(train[i]["speech"]) for i in range(4)]
    assert val is not None and len(val) == 6


def test_evaluation_reports_per_style_and_language(shards, make_model):
    from deepasmr.lm.evaluate import edit_distance, generation, ras_trigger_rate, teacher_forced
    from deepasmr.lm.sampling import DecodeConfig

    assert edit_distance("kitten", "sitting") == 3
    assert ras_trigger_rate([[1, 2, 1, 3]], window=10, tau=0.1) == 1 / 3
    utts = read_shard_utterances(shards, ["train"])
    model = make_model(speech_vocab_size=CODEBOOK)
    data = PairDataset(utts, lambda u: [1] * len(u.phones), no_prompt_prob=0.0, max_prompt_tokens=100)
    tf = teacher_forced(model, data)
    assert set(tf) == {"asmr/en", "asmr/zh", "normal/en", "normal/zh"}
    assert all(0 <= g["token_acc"] <= 1 and g["perplexity"] > 1 for g in tf.values())
    gen = generation(model, data, per_group=2, decode=DecodeConfig(max_new_tokens=8),
                     tokens_to_phones=lambda ts: [["a"] * len(t) for t in ts])
    assert all(g["n"] == 2 and 0 <= g["runaway_rate"] <= 1 and "per_generated" in g for g in gen.values())
