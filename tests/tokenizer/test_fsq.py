import itertools
import math

import pytest
import torch

from deepasmr.tokenizer.fsq import FSQ


@pytest.mark.parametrize("levels", [(8, 5, 5, 5), (3,) * 8, (7, 4)])
def test_every_code_round_trips(levels):
    fsq = FSQ(levels)
    assert fsq.codebook_size == math.prod(levels)
    idx = torch.arange(fsq.codebook_size)
    codes = fsq.indices_to_codes(idx)
    assert codes.shape == (fsq.codebook_size, len(levels))
    assert codes.abs().max() <= 1.0
    assert torch.equal(fsq.codes_to_indices(codes), idx)
    _, back = fsq(torch.randn(500, len(levels)) * 3)
    assert back.min() >= 0 and back.max() < fsq.codebook_size


def test_quantiser_reaches_all_codes_and_is_idempotent():
    levels = (8, 5, 5, 5)
    fsq = FSQ(levels)
    sweep = torch.linspace(-6, 6, 2001)
    # channels are independent: a fine sweep of each hits exactly L values, so all prod(L) codes exist
    per_channel = []
    for ch, level in enumerate(levels):
        z = torch.zeros(len(sweep), len(levels))
        z[:, ch] = sweep
        q, _ = fsq(z)
        per_channel.append(torch.unique(q[:, ch]))
        assert len(per_channel[-1]) == level
    grid = torch.tensor(list(itertools.product(*(v.tolist() for v in per_channel))))
    assert len(torch.unique(fsq.codes_to_indices(grid))) == fsq.codebook_size
    q, idx = fsq(torch.randn(4000, 4) * 2)
    assert torch.equal(fsq.indices_to_codes(idx), q)  # quantised values are exactly the code's values


def test_straight_through_gradient():
    fsq = FSQ((5, 5))
    z = torch.randn(16, 2, requires_grad=True)
    q, _ = fsq(z)
    q.sum().backward()
    assert z.grad is not None and torch.all(z.grad > 0)  # tanh slope passes through the rounding
