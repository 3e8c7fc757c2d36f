import math

import torch

from deepasmr.lm.sampling import DecodeConfig, choose_token, choose_tokens, nucleus, nucleus_logits

VOCAB = 20
DRAWS = 300


def test_nucleus_keeps_top_k_and_top_p_mass():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.1, 0.06, 0.04]))
    assert torch.isfinite(nucleus_logits(logits, top_k=0, top_p=0.7)).tolist() == [True, True, False, False, False]
    assert torch.isfinite(nucleus_logits(logits, top_k=1, top_p=1.0)).sum() == 1
    assert torch.isfinite(nucleus_logits(logits, top_k=0, top_p=1.0)).all()


def test_draws_follow_the_renormalised_nucleus_and_map_back_to_token_ids():
    # Shuffled so that the top tokens are not the first ids: a draw's place in the top-k must map back.
    ids = torch.tensor([4, 0, 2, 1, 3])
    logits = torch.empty(5).scatter_(0, ids, torch.log(torch.tensor([0.5, 0.3, 0.1, 0.06, 0.04])))
    probs, order = nucleus(logits, top_k=0, top_p=0.7)
    assert order[:2].tolist() == [4, 0] and torch.allclose(probs[:2], torch.tensor([0.625, 0.375]))
    cfg = DecodeConfig(top_k=0, top_p=0.7, ras_window=0)
    gens = [torch.Generator().manual_seed(s) for s in range(2 * DRAWS)]
    draws = choose_tokens(logits.expand(2 * DRAWS, 5), [[]] * (2 * DRAWS), cfg, gens)
    assert set(draws) == {4, 0}
    assert math.isclose(draws.count(4) / len(draws), 0.625, abs_tol=0.06)


def _peaked_logits(top: int, top_prob: float) -> torch.Tensor:
    probs = torch.full((VOCAB,), (1 - top_prob) / (VOCAB - 1))
    probs[top] = top_prob
    return probs.log()


def test_repetition_aware_sampling_resamples_from_full_distribution():
    # top_k=1: the nucleus is always token 3. Once 3 fills the recent window, RAS draws from the full
    # distribution, where 3 has only 60 % of the mass.
    cfg = DecodeConfig(top_k=1, top_p=1.0, ras_window=10, ras_tau=0.1)
    logits = _peaked_logits(top=3, top_prob=0.6)
    g = torch.Generator().manual_seed(0)
    fresh = [choose_token(logits, [], cfg, g) for _ in range(DRAWS)]
    looping = [choose_token(logits, [3] * 10, cfg, g) for _ in range(DRAWS)]
    assert set(fresh) == {3}
    other_share = sum(t != 3 for t in looping) / DRAWS
    assert math.isclose(other_share, 0.4, abs_tol=0.1)
    # Without RAS (window 0) the loop would continue forever.
    no_ras = DecodeConfig(top_k=1, top_p=1.0, ras_window=0)
    assert {choose_token(logits, [3] * 10, no_ras, g) for _ in range(50)} == {3}


def test_seeded_sampling_is_deterministic():
    logits = torch.randn(VOCAB, generator=torch.Generator().manual_seed(1))
    cfg = DecodeConfig(top_k=10, top_p=0.9)

    def run(seed):
        g = torch.Generator().manual_seed(seed)
        history: list[int] = []
        for _ in range(50):
            history.append(choose_token(logits, history, cfg, g))
        return history

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_greedy_ignores_history():
    logits = _peaked_logits(top=5, top_prob=0.3)
    assert choose_token(logits, [5] * 10, DecodeConfig(greedy=True)) == 5
