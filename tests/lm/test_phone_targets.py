"""The auxiliary phone loss: CTC forced alignment of phones to speech tokens (deepasmr.lm.phone_targets) on
hand-made posteriors and on the tiny corpus's real tokens, the loss in SpeechLM, and a run of the train entry
that starts from an LM without the phone head."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from deepasmr.errors import DataError
from deepasmr.lm.phone_targets import ctc_forced_alignment, proportional_alignment, token_phone_positions


def spiky_logprobs(frames: list[int], vocab: int = 6) -> np.ndarray:
    """Log-probs where each frame puts 0.9 on the given id (0 = blank)."""
    p = np.full((len(frames), vocab), 0.1 / (vocab - 1))
    p[np.arange(len(frames)), frames] = 0.9
    return np.log(p)


def test_forced_alignment_follows_the_spikes_and_gives_blanks_to_the_phone_before():
    # phones 2 3 3 4; the repeated 3 needs a blank between its two spikes.
    logp = spiky_logprobs([0, 2, 2, 0, 3, 0, 3, 0, 0, 4, 0])
    assert ctc_forced_alignment(logp, [2, 3, 3, 4]).tolist() == [0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3]
    # The best path may not match the spikes, but it still visits every phone once, in order.
    wrong = ctc_forced_alignment(logp, [5, 1, 2])
    assert wrong is not None and sorted(set(wrong.tolist())) == [0, 1, 2] and np.all(np.diff(wrong) >= 0)
    assert ctc_forced_alignment(logp[:3], [2, 3, 3, 4]) is None  # 3 frames cannot hold 4 phones
    assert proportional_alignment(6, 3).tolist() == [0, 0, 1, 1, 2, 2]


@pytest.fixture(scope="module")
def real_utterances(tiny_corpus, bundle_dir, tmp_path_factory):
    """The tiny corpus's training utterances as tokenised by models/tiny's tokenizer (via the test bundle)."""
    from deepasmr.data.shards import ShardConfig, extract_shards
    from deepasmr.lm.data import read_shard_meta, read_shard_utterances

    out = tmp_path_factory.mktemp("lm_phone_shards")
    extract_shards(tiny_corpus, bundle_dir, out, splits=("train", "dev"), cfg=ShardConfig(speaker_embedding=False))
    return out, read_shard_utterances(out, ["train"]), read_shard_meta(out)["tokenizer"]["vocab"]


def test_real_tokens_align_to_their_phones_better_than_evenly(real_utterances, bundle_dir):
    from deepasmr.tokenizer.io import load_tokenizer

    _, utts, vocab = real_utterances
    positions, fallbacks = token_phone_positions(str(bundle_dir), vocab, utts)
    assert fallbacks == 0 and len(positions) == len(utts)
    model, tok_vocab, _ = load_tokenizer(bundle_dir)
    logps = model.tokens_to_phone_logprobs([u.tokens for u in utts])
    better = 0
    for u, pos, logp in zip(utts, positions, logps, strict=True):
        assert len(pos) == len(u.tokens) and pos.min() == 0 and pos.max() == len(u.phones) - 1
        assert torch.all(pos[1:] >= pos[:-1])
        ids = torch.tensor(tok_vocab.encode(u.phones))
        even = torch.from_numpy(proportional_alignment(len(u.tokens), len(u.phones)))
        frames = torch.arange(len(pos))
        # Mean log-probability the CTC head gives the phone each frame is assigned to, blanks excluded.
        label = logp.argmax(-1) != 0
        aligned, spread = logp[frames, ids[pos]][label].mean(), logp[frames, ids[even]][label].mean()
        better += bool(aligned > spread + 1.0)
    assert better >= 0.9 * len(utts), f"{better} of {len(utts)}"
    with pytest.raises(DataError, match="vocabulary differs"):
        token_phone_positions(str(bundle_dir), ["<blank>", "<unk>", "x"], utts[:1])


def toy_batch(text_len: int = 6, tokens_per_phone: int = 2, n: int = 3) -> dict:
    """Rows whose tokens each speak one phone for `tokens_per_phone` tokens (row b drops its last b phones)."""
    g = torch.Generator().manual_seed(0)
    text = torch.randint(1, 30, (n, text_len), generator=g)
    text_lens = torch.tensor([text_len - b for b in range(n)])
    speech_lens = text_lens * tokens_per_phone
    return {"text": text, "text_lens": text_lens, "style": torch.arange(n) % 2,
            "speech": torch.randint(0, 64, (n, text_len * tokens_per_phone), generator=g), "speech_lens": speech_lens,
            "phone_pos": torch.arange(text_len).repeat_interleave(tokens_per_phone)[None].repeat(n, 1),
            "phone_pos_lens": speech_lens}


def test_phone_loss_adds_to_training_only_and_its_head_learns(make_model):
    model = make_model(phone_aux_weight=0.5).train()
    batch = toy_batch()
    out = model(batch)
    assert {"phone", "phone_acc", "ce"} <= set(out)
    assert torch.allclose(out["loss"], out["ce"] + 0.5 * out["phone"])
    with torch.no_grad():
        assert set(model.eval()(batch)) == {"loss", "acc"}  # validation scores the speech tokens only
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    first = float(out["phone"])
    for _ in range(60):
        out = model(batch)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    assert float(out["phone"]) < 0.5 * first and float(out["phone_acc"]) > 0.5
    scores = model.eval().phone_scores(batch)
    assert scores["now_count"] == int(batch["speech_lens"].sum())
    assert scores["next_count"] == scores["now_count"] - 2 * len(batch["text"])  # no phone after the last
    assert scores["now_correct"] > 0.5 * scores["now_count"]
    assert make_model().phone_head is None  # off by default: no extra weights in a bundle
    with pytest.raises(ValueError, match="phone text units"):
        make_model(phone_aux_weight=1.0, text_unit="bpe")


def test_train_entry_adds_the_phone_head_to_a_model_without_one(real_utterances, bundle_dir, tmp_path):
    from deepasmr.lm.io import load_lm
    from deepasmr.lm.stage import SPEC, tiny
    from deepasmr.train.registry import register_stage
    from deepasmr.train.runner import train

    register_stage(SPEC)
    shards, _, _ = real_utterances
    assert load_lm(bundle_dir).phone_head is None
    cfg = tiny()
    cfg.init_from = str(bundle_dir)
    cfg.data = replace(cfg.data, shards=str(shards))
    cfg.model = replace(cfg.model, phone_aux_weight=1.0)
    cfg.trainer = replace(cfg.trainer, out_dir=str(tmp_path / "run"), max_steps=2, val_every_n_steps=2,
                          val_batches=1, progress_bar=False, accelerator="cpu", num_threads=1)
    with pytest.raises(DataError, match="alignment_tokenizer"):
        train("lm", cfg)
    cfg.data = replace(cfg.data, alignment_tokenizer=str(bundle_dir))
    assert train("lm", cfg)["global_step"] == 2
    tuned = load_lm(tmp_path / "run" / "export")
    assert tuned.phone_head is not None and tuned.cfg.phone_aux_weight == 1.0

    # lm.evaluate reports the head's accuracy on held-out speakers when given the aligning tokenizer.
    from deepasmr.lm.evaluate import main

    report = tmp_path / "eval.json"
    assert main(["--lm", str(tmp_path / "run" / "export"), "--shards", str(shards), "--split", "dev",
                 "--tokenizer", str(bundle_dir), "--generate", "0", "--alignment", "0", "--json", str(report)]) == 0
    heads = json.loads(report.read_text())["phone_head"]
    assert heads and all(0 <= g["now_acc"] <= 1 and 0 <= g["next_acc"] <= 1 for g in heads.values())
