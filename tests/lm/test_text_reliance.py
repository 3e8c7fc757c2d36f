"""Noisy speech history (LMConfig.speech_input_noise) and the text-reliance probe of deepasmr.lm.evaluate.

Each toy utterance says one phone over and over, and its tokens are that phone's code, so the text alone
gives every token. A model trained on them with noisy history reads the text, and the probe must show it:
right text -> nearly every token right, another utterance's text -> few."""

import torch

from deepasmr.lm.data import PairDataset, Utterance, collate
from deepasmr.lm.evaluate import text_reliance
from deepasmr.lm.layout import KIND_SPEECH, KIND_TEXT

STEPS = 200
LR = 5e-3


def toy_utterances(n: int = 24) -> list[Utterance]:
    g = torch.Generator().manual_seed(0)
    utts = []
    for i in range(n):
        phone, length = int(torch.randint(1, 30, (), generator=g)), int(torch.randint(5, 10, (), generator=g))
        utts.append(Utterance(id=f"u{i}", speaker=f"s{i % 4}", style=("normal", "asmr")[i % 2], language="en",
                              text="", tokens=torch.full((length,), phone), phones=[f"p{phone - 1}"] * length))
    return utts


def test_noise_touches_speech_inputs_only_and_only_in_training(make_model, make_batch):
    model = make_model(speech_input_noise=0.5)
    ids = torch.randint(0, 30, (2, 40))
    kinds = torch.full_like(ids, KIND_SPEECH)
    kinds[:, :10] = KIND_TEXT
    noisy = model._noisy_speech_inputs(ids, kinds)
    assert torch.equal(noisy[:, :10], ids[:, :10]) and not torch.equal(noisy[:, 10:], ids[:, 10:])
    batch = make_batch(3)
    with torch.no_grad():
        assert model(batch)["loss"] == model(batch)["loss"]  # eval: clean inputs, deterministic
        model.train()
        assert model(batch)["loss"] != model(batch)["loss"]


def test_a_model_trained_on_noisy_history_reads_the_text(make_model):
    utts = toy_utterances()
    model = make_model(seed=0, speech_input_noise=0.5).train()
    data = PairDataset(utts, lambda u: [int(p[1:]) + 1 for p in u.phones], no_prompt_prob=0.5,
                       max_prompt_tokens=100)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    for _ in range(STEPS):
        loss = model(collate([data[i] for i in range(len(data))], token_rate=1.0))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    probe = text_reliance(model.eval(), data)
    assert set(probe) == {"asmr/en", "normal/en"}
    for group in probe.values():
        assert group["acc_right_text"] > 0.8 > 0.4 > group["acc_wrong_text"]
        assert group["perplexity_wrong_text"] > group["perplexity_right_text"]
