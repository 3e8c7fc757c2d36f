from deepasmr.train.sampler import FrameBatchSampler, frame_batches

LENGTHS = [(i * 37) % 90 + 10 for i in range(101)]


def test_batches_respect_padded_frame_budget_and_cover_everything():
    batches = frame_batches(LENGTHS, max_frames=300)
    assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))
    for b in batches:
        assert len(b) * max(LENGTHS[i] for i in b) <= 300 or len(b) == 1
    assert all(len(b) <= 4 for b in frame_batches(LENGTHS, 10_000, max_batch_size=4))


def test_ranks_get_disjoint_equal_shares_and_epochs_reshuffle():
    samplers = [FrameBatchSampler(LENGTHS, 300, seed=3, rank=r, world_size=3) for r in range(3)]
    per_rank = [list(s) for s in samplers]
    assert len({len(p) for p in per_rank}) == 1  # DDP needs equal step counts
    firsts = [tuple(b) for p in per_rank for b in p]
    n_real = len(samplers[0].batches)
    assert len(set(firsts)) == n_real  # every batch used; padding only repeats
    e0 = list(samplers[0])
    samplers[0].set_epoch(1)
    assert list(samplers[0]) != e0 and len(list(samplers[0])) == len(e0)


def test_state_restores_the_exact_remaining_batches():
    a = FrameBatchSampler(LENGTHS, 300, seed=5)
    a.set_epoch(2)
    full = list(a)
    state = a.state_dict(consumed=4)
    b = FrameBatchSampler(LENGTHS, 300, seed=5)
    b.load_state_dict(state)
    assert list(b) == full[4:]
    assert list(b) == full  # the skip applies once; the next pass is the whole epoch
    b.load_state_dict(a.state_dict(consumed=len(a)))  # saved on the epoch's last batch
    assert b.epoch == 3 and list(b) == a.epoch_batches(3)
