"""The text pointer (deepasmr.lm.pointer): zero-initialised it changes nothing; trained on toy speech whose
tokens are their phone's id, it speaks texts it never saw, and its KV-cached decoding matches the reference."""

import torch

from deepasmr.lm.data import PairDataset, Utterance, collate
from deepasmr.lm.generate import LMRequest, generate
from deepasmr.lm.sampling import DecodeConfig

STEPS = 300


def toy_utterance(i: int, g: torch.Generator) -> tuple[Utterance, torch.Tensor]:
    """Five random phones; each lasts 2-3 tokens and its tokens are the phone's id."""
    phones = torch.randint(1, 30, (5,), generator=g)
    durations = torch.randint(2, 4, (5,), generator=g)
    tokens = phones.repeat_interleave(durations)
    utt = Utterance(id=f"u{i}", speaker="s", style="normal", language="en", text="", tokens=tokens,
                    phones=[f"p{int(p) - 1}" for p in phones])
    return utt, torch.arange(5).repeat_interleave(durations)


def toy_data(n: int, seed: int) -> PairDataset:
    g = torch.Generator().manual_seed(seed)
    utts, positions = zip(*(toy_utterance(i, g) for i in range(n)), strict=True)
    return PairDataset(list(utts), lambda u: [int(p[1:]) + 1 for p in u.phones], no_prompt_prob=1.0,
                       max_prompt_tokens=0, phone_positions=list(positions))


def test_zero_initialised_pointer_changes_nothing(make_model):
    model = make_model(seed=0)
    batch = collate([toy_data(4, seed=1)[i] for i in range(4)], token_rate=1.0)
    before = model.score(batch)
    model.add_pointer()
    assert model.cfg.text_pointer and model.score(batch) == before


def trained(model, data: PairDataset):
    batch = collate([data[i] for i in range(len(data))], token_rate=1.0)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.0)
    for _ in range(STEPS):
        out = model(batch)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    return model, out


def texts_said(model, data: PairDataset, use_cache: bool = True) -> tuple[int, list[list[int]]]:
    """How many texts the greedy tokens spell out (tokens collapsed), and the tokens."""
    right, out = spoken(model, data, use_cache)
    return right, out.tokens


def spoken(model, data: PairDataset, use_cache: bool = True):
    requests = [LMRequest(data[i]["text"].tolist(), "normal") for i in range(len(data))]
    out = generate(model, requests, DecodeConfig(greedy=True), seed=0, use_cache=use_cache)
    said = [torch.unique_consecutive(torch.tensor(t)).tolist() for t in out.tokens]
    return sum(s == list(r.text) for s, r in zip(said, requests, strict=True)), out


def test_a_pointer_lm_speaks_texts_it_never_saw(make_model):
    data, unseen = toy_data(24, seed=0), toy_data(8, seed=123)
    model, out = trained(make_model(seed=0, text_pointer=True).train(), data)
    assert "advance" in out
    right, tokens = texts_said(model, unseen)
    assert right >= 5, [torch.unique_consecutive(torch.tensor(t)).tolist() for t in tokens]
    assert tokens == texts_said(model, unseen, use_cache=False)[1]
    # Generation reports which text phone each token speaks (what the flow decoder may be told): here a
    # token's id is its phone's, so the two agree where the LM spoke right.
    out = spoken(model, unseen)[1]
    agree = total = 0
    for i, (toks, pos) in enumerate(zip(out.tokens, out.text_positions, strict=True)):
        text = unseen[i]["text"].tolist()
        assert len(pos) == len(toks) and pos == sorted(pos) and min(pos) >= 0 and max(pos) < len(text)
        agree, total = agree + sum(text[p] == t for p, t in zip(pos, toks, strict=True)), total + len(toks)
    assert agree >= 0.8 * total, (agree, total)
    # The same LM without the pointer, trained alike, has not learned to read in that time.
    plain, _ = trained(make_model(seed=0).train(), data)
    assert texts_said(plain, unseen)[0] <= 1
    assert spoken(plain, unseen)[1].text_positions == []
