"""The tiny preset (shrunk codebook and depth, for test time) memorises a handful of sequences; greedy
generation then reproduces them from the text, with and without a task prompt."""

import torch

from deepasmr.lm import DecodeConfig, LMRequest, generate

ROWS = 4
STEPS = 150
LR = 5e-3
TARGET_LOSS = 0.05


def test_tiny_overfits_and_greedy_reproduces_memorised_tokens(make_model, make_batch):
    model = make_model(seed=0, num_layers=2, hidden_size=128, intermediate_size=256).train()
    batch = make_batch(ROWS, seed=1, text_len=10, speech_len=16)
    batch["prompt_text_lens"][ROWS - 1] = 0  # one style-only row (no task prompt)
    batch["prompt_speech_lens"][ROWS - 1] = 0
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    first = None
    for _ in range(STEPS):
        loss = model(batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
        if loss.item() < TARGET_LOSS:
            break
    assert loss.item() < TARGET_LOSS < first

    def cut(key, b):
        return batch[key][b, : int(batch[key + "_lens"][b])].tolist()

    requests = [
        LMRequest(text=cut("text", b), style=int(batch["style"][b]), prompt_text=cut("prompt_text", b),
                  prompt_speech=cut("prompt_speech", b))
        for b in range(ROWS)
    ]
    out = generate(model, requests, DecodeConfig(greedy=True))
    assert out.tokens == [cut("speech", b) for b in range(ROWS)]
    assert not any(out.hit_max_len)
