import pytest
import torch

from deepasmr.lm import DecodeConfig, LMRequest, generate, length_bounds

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
    alone = [generate(model64, [r], sampling, seed=5 + i).tokens[0] for i, r in enumerate(_requests())]
    assert batched.tokens == alone


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
