import importlib

import pytest
import torch

from deepasmr.lm import DecodeConfig, LMRequest, generate, length_bounds
from deepasmr.lm.sampling import piece_seed

MAX_NEW = 40
GREEDY = DecodeConfig(greedy=True, max_new_tokens=MAX_NEW)
# Large enough to swamp every other logit: forces or forbids eos outright.
DOMINANT_BIAS = 1e4


def _requests():
    return [
        LMRequest(text=[3, 4, 5, 6, 7, 8], style="asmr", prompt_text=[9, 10], prompt_speech=[1, 2, 3, 4]),
        LMRequest(text=[11, 12], style="normal"),
        LMRequest(text=[5, 6, 7, 8, 9, 10, 11, 12, 13, 14], style=1, prompt_text=[2], prompt_speech=[7]),
    ]


@pytest.fixture
def model64(make_model):
    # float64 so that batched / cached / uncached differ by ~1e-15, far below any argmax margin.
    return make_model(seed=3).double()


def test_kv_cached_greedy_matches_uncached(model64):
    cached = generate(model64, _requests(), GREEDY, use_cache=True)
    uncached = generate(model64, _requests(), GREEDY, use_cache=False)
    assert cached.tokens == uncached.tokens
    assert any(len(t) > 1 for t in cached.tokens)


def test_batched_equals_one_by_one(model64):
    batched = generate(model64, _requests(), GREEDY)
    alone = [generate(model64, [r], GREEDY).tokens[0] for r in _requests()]
    assert batched.tokens == alone
    sampling = DecodeConfig(top_k=10, top_p=0.9, max_new_tokens=MAX_NEW)
    batched = generate(model64, _requests(), sampling, seed=5)
    alone = [generate(model64, [r], sampling, seed=piece_seed(5, i)).tokens[0] for i, r in enumerate(_requests())]
    assert batched.tokens == alone


def test_the_pieces_of_neighbouring_seeds_draw_apart(model64):
    """A text of two identical sentences at seeds 5 and 6: the second sentence at seed 5 is not the first at
    seed 6 (with a stride of one between pieces it was, draw for draw)."""
    sampling = DecodeConfig(top_k=10, top_p=0.9, max_new_tokens=MAX_NEW)
    twice = [_requests()[0]] * 2
    at5, at6 = (generate(model64, twice, sampling, seed=s).tokens for s in (5, 6))
    assert at5[1] != at6[0]
    assert at5[1] == generate(model64, twice[:1], sampling, seed=piece_seed(5, 1)).tokens[0]


def test_seeded_generation_is_deterministic(model64):
    sampling = DecodeConfig(top_k=10, top_p=0.9, max_new_tokens=MAX_NEW)
    first = generate(model64, _requests(), sampling, seed=1).tokens
    assert first == generate(model64, _requests(), sampling, seed=1).tokens
    assert first != generate(model64, _requests(), sampling, seed=2).tokens


def test_max_length_bound_stops_runaway(model64):
    with torch.no_grad():
        model64.speech_head.bias[model64.cfg.eos_label] = -DOMINANT_BIAS  # eos never wins
    out = generate(model64, _requests(), DecodeConfig(top_k=10))
    for req, tokens, hit in zip(_requests(), out.tokens, out.hit_max_len, strict=True):
        assert len(tokens) == length_bounds(len(req.text), model64.cfg, DecodeConfig())[1]
        assert hit


def test_eos_waits_for_min_length(model64):
    with torch.no_grad():
        model64.speech_head.bias[model64.cfg.eos_label] = DOMINANT_BIAS  # eos always wins once allowed
    out = generate(model64, _requests(), GREEDY)
    for req, tokens, hit in zip(_requests(), out.tokens, out.hit_max_len, strict=True):
        assert len(tokens) == length_bounds(len(req.text), model64.cfg, GREEDY)[0]
        assert not hit


def _cached_against_reference(model, matmul_dtype=None):
    """A left-padded prefix, then three single-position steps, through lm.kv_cache; and transformers' forward over
    the whole sequence. Returns (cached, reference) hidden states at the real positions, and the cache."""
    from deepasmr.lm.kv_cache import CachedBackbone, supports
    from deepasmr.lm.layout import pad_rows, prefix_row

    assert supports(model.backbone)  # else generate falls back to transformers' cache and this path goes untested
    rows = [prefix_row(r.text, 0, r.prompt_text, r.prompt_speech) for r in _requests()]
    packed = pad_rows(rows, "left")
    embeds = model.embed(packed["ids"], packed["kinds"])
    mask, positions = packed["attention_mask"], packed["position_ids"]
    steps = torch.randn(len(rows), 3, embeds.shape[-1], dtype=embeds.dtype, generator=torch.Generator().manual_seed(0))
    cached = CachedBackbone(model.backbone, len(rows), embeds.shape[1] + 3, matmul_dtype)
    with torch.no_grad():
        got = [cached(embeds, positions, mask)]
        for s in range(3):
            mask = torch.cat([mask, mask.new_ones(len(rows), 1)], dim=1)
            positions = torch.cat([positions, positions[:, -1:] + 1], dim=1)
            got.append(cached(steps[:, s : s + 1], positions[:, -1:], mask))
        want, _ = model.run(torch.cat([embeds, steps], dim=1), mask, positions)
    real = mask.bool()
    assert not real.all()  # the batch is padded, so the masks were exercised
    return torch.cat(got, dim=1)[real], want[real], cached


def test_kv_cache_reproduces_the_transformers_forward(model64):
    got, want, _ = _cached_against_reference(model64)
    assert torch.allclose(got, want, atol=1e-10)


def test_bf16_products_round_only_the_products(model64):
    """matmul_dtype=bfloat16: hidden states within bf16 rounding of the reference (not equal: the products did
    round), while the cache and the stream stay in the model's own dtype."""
    got, want, cache = _cached_against_reference(model64, torch.bfloat16)
    error = (got - want).abs().max() / want.std()
    assert 0 < error < 0.05
    assert got.dtype == cache.keys.dtype == torch.float64


def test_bf16_decoding_samples_like_full_precision(model64):
    """The same seeds through bf16 products: sampled rows keep to the length bounds, and most greedy tokens agree
    with full precision (bf16 moves a logit by ~1 %, which flips only near-ties)."""
    bf16 = generate(model64, _requests(), DecodeConfig(greedy=True, max_new_tokens=MAX_NEW, precision="bf16"))
    full = generate(model64, _requests(), GREEDY)
    agree = [a == b for x, y in zip(bf16.tokens, full.tokens, strict=True) for a, b in zip(x, y, strict=False)]
    assert sum(agree) / len(agree) > 0.6
    for req, tokens in zip(_requests(), bf16.tokens, strict=True):
        low, high = length_bounds(len(req.text), model64.cfg, GREEDY)
        assert low <= len(tokens) <= high
    with pytest.raises(ValueError, match="precision"):
        DecodeConfig(precision="fp16")


@pytest.mark.parametrize("cache", ["preallocated", "transformers", "none"])
def test_copies_of_requests_decode_together_as_each_would_alone(model64, cache, monkeypatch):
    """Best of N's batch: three sampled copies of each request share their prefix's backbone pass and leave the
    batch as they finish; each row's tokens are still exactly its own draw alone."""
    generate_module = importlib.import_module("deepasmr.lm.generate")  # the package's `generate` is the function
    if cache == "transformers":  # the fallback for backbones lm.kv_cache does not reproduce (sliding windows)
        monkeypatch.setattr(generate_module, "supports", lambda backbone: False)
    sampling = DecodeConfig(top_k=10, top_p=0.9, max_new_tokens=MAX_NEW)
    requests = [r for _ in range(3) for r in _requests()]
    seeds = range(10, 10 + len(requests))
    together = generate(model64, requests, sampling, use_cache=cache != "none",
                        generator=[torch.Generator().manual_seed(s) for s in seeds]).tokens
    alone = [generate(model64, [r], sampling, generator=torch.Generator().manual_seed(s)).tokens[0]
             for r, s in zip(requests, seeds, strict=True)]
    assert together == alone
    copies = together[:: len(_requests())]  # the first request's three draws: they differ, in length too
    assert len({len(t) for t in copies}) > 1
