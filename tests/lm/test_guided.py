"""Guided attention (deepasmr.lm.guided) and the alignment probe (deepasmr.lm.alignment)."""

import numpy as np
import torch

from deepasmr.lm.alignment import alignment_report, monotonicity
from deepasmr.lm.config import IGNORE_INDEX
from deepasmr.lm.guided import diagonal_penalty, row_spans
from deepasmr.lm.layout import KIND_TEXT, pad_rows, rows_from_batch


def test_penalty_is_zero_on_the_diagonal_and_high_far_from_it():
    w = diagonal_penalty(50, 20, sigma=0.2)
    assert w.shape == (50, 20)
    assert float(w[0, 0]) == 0.0 and float(w[25, 10]) == 0.0
    assert float(w[0, 19]) > 0.9 and float(w[49, 0]) > 0.9


def test_spans_point_at_the_text_and_at_the_rows_that_predict_the_target(make_model, make_batch):
    model = make_model()
    batch = make_batch(4)
    packed = pad_rows(rows_from_batch(batch, model.cfg.eos_label), "right")
    for b, s in enumerate(row_spans(batch)):
        n_text, n_target = int(batch["text_lens"][b]), int(batch["speech_lens"][b])
        assert (packed["kinds"][b, s.text_start:s.text_end] == KIND_TEXT).all()
        assert packed["ids"][b, s.text_start:s.text_end].tolist() == batch["text"][b, :n_text].tolist()
        # The rows of the target block are exactly the ones whose labels are the target tokens.
        labels = packed["labels"][b, s.target_start:s.target_end]
        assert labels.tolist() == batch["speech"][b, :n_target].tolist()
        assert int(packed["labels"][b, s.target_start - 1]) == IGNORE_INDEX


def test_training_with_guided_attention_makes_the_guided_heads_read_in_order(make_model, make_batch):
    torch.manual_seed(0)
    model = make_model(guided_attention_weight=5.0, guided_attention_layers=[0, 1], guided_attention_heads=2,
                       no_prompt_prob=1.0)
    batch = make_batch(4, text_len=12, speech_len=30, prompt=False)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    first = None
    for _ in range(40):
        out = model(batch)
        first = float(out["guided"]) if first is None else first
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    last = float(model(batch)["guided"])
    assert last < 0.5 * first

    model.eval()
    out = model(batch)
    assert set(out) == {"loss", "acc"}  # evaluation reports plain cross-entropy

    items = [{"text": batch["text"][b], "style": batch["style"][b], "speech": batch["speech"][b]} for b in range(4)]
    report = alignment_report(model, items, {"all": [0, 1, 2, 3]}, per_group=4)
    assert report["all"]["best_head_rho"] > 0.8


def test_monotonicity_tells_a_diagonal_head_from_a_fixed_one():
    diagonal = np.zeros((1, 2, 30, 10))
    for t in range(30):
        diagonal[0, 0, t, t // 3] = 1.0
    diagonal[0, 1, :, 4] = 1.0  # stares at one phone
    rho = monotonicity(diagonal)
    assert rho[0, 0] > 0.99
    assert rho[0, 1] == 0.0


def test_attention_off_the_text_cannot_dodge_the_loss():
    from deepasmr.lm.guided import RowSpans, guided_attention_loss

    spans = [RowSpans(text_start=2, text_end=12, target_start=13, target_end=43)]
    on_diagonal = torch.zeros(1, 1, 45, 45)
    for t in range(30):
        on_diagonal[0, 0, 13 + t, 2 + t // 3] = 1.0
    elsewhere = torch.zeros(1, 1, 45, 45)
    elsewhere[0, 0, 13:43, 0] = 1.0  # all mass on [sos]
    loss = lambda a: float(guided_attention_loss((a,), spans, [0], 1, 0.2))  # noqa: E731
    assert loss(on_diagonal) < 0.05  # steps of 1/30 off the exact diagonal cost a little
    assert loss(elsewhere) == 1.0


def test_aligned_guidance_rewards_the_aligned_phone_not_the_diagonal():
    from deepasmr.lm.guided import RowSpans, guided_attention_loss

    # 30 target tokens over 10 phones at an uneven pace: the first phone lasts 12 tokens, the others 2.
    phone_pos = torch.tensor([0] * 12 + [p for p in range(1, 10) for _ in range(2)])[None]
    spans = [RowSpans(text_start=2, text_end=12, target_start=13, target_end=43)]
    aligned, diagonal = torch.zeros(1, 1, 45, 45), torch.zeros(1, 1, 45, 45)
    for t in range(30):
        aligned[0, 0, 13 + t, 2 + int(phone_pos[0, t])] = 1.0
        diagonal[0, 0, 13 + t, 2 + t // 3] = 1.0
    loss = lambda a, **kw: float(guided_attention_loss((a,), spans, [0], 1, 0.2, **kw))  # noqa: E731
    assert loss(aligned, phone_pos=phone_pos, aligned_sigma=1.0) == 0.0
    assert loss(diagonal, phone_pos=phone_pos, aligned_sigma=1.0) > 0.3
    assert loss(diagonal) < loss(aligned)  # without positions the proportional diagonal is the target
