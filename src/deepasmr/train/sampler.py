"""Dynamic batching by total padded frames, sharded over ranks, with a resumable position.

Batches are built once from the length-sorted utterances (so padding is small and the number of batches
is the same every epoch, which Lightning's epoch bookkeeping relies on); each epoch shuffles their order
with a seed of (seed, epoch), pads the list to a multiple of the world size and gives rank r every
world_size-th batch. The state is (epoch, batches consumed on this rank), so a resumed run skips exactly
the batches the killed run had trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from torch.utils.data import DataLoader, Sampler


def frame_batches(lengths: Sequence[int], max_frames: int, max_batch_size: int = 0) -> list[list[int]]:
    """Group indices (sorted by length) so that batch_size * longest <= max_frames (padded cost)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for idx in order.tolist():
        n = int(lengths[idx])
        grown = max(longest, n)
        full = max_batch_size and len(current) >= max_batch_size
        if current and (grown * (len(current) + 1) > max_frames or full):
            batches.append(current)
            current, grown = [], n
        current.append(idx)
        longest = grown
    if current:
        batches.append(current)
    return batches


class FrameBatchSampler(Sampler[list[int]]):
    def __init__(
        self,
        lengths: Sequence[int],
        max_frames: int,
        *,
        max_batch_size: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.batches = frame_batches(lengths, max_frames, max_batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self._skip = 0  # batches to skip at the start of the next iteration (set by load_state_dict)
        self.per_rank = -(-len(self.batches) // world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """This rank's batches for `epoch`, in order."""
        order = list(range(len(self.batches)))
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.batches)).tolist()
        # Pad by wrapping around so every rank runs the same number of steps (DDP needs it).
        total = self.per_rank * self.world_size
        padded = (order * (total // max(len(order), 1) + 1))[:total]
        return [self.batches[i] for i in padded[self.rank :: self.world_size]]

    def __iter__(self) -> Iterator[list[int]]:
        skip, self._skip = self._skip, 0
        yield from self.epoch_batches(self.epoch)[skip:]

    def __len__(self) -> int:
        return self.per_rank

    def state_dict(self, consumed: int) -> dict:
        return {"epoch": self.epoch, "consumed": consumed, "n_batches": len(self.batches), "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        if state["n_batches"] != len(self.batches) or state["seed"] != self.seed:
            raise RuntimeError(
                f"cannot resume the data order: the checkpoint had {state['n_batches']} batches (seed "
                f"{state['seed']}), this run has {len(self.batches)} (seed {self.seed}); did the data change?"
            )
        self.epoch, self._skip = state["epoch"], state["consumed"]
        if self._skip >= self.per_rank:  # saved on the last batch of an epoch: start the next one
            self.epoch, self._skip = self.epoch + 1, 0


class ResumableDataLoader(DataLoader):
    """A DataLoader Lightning treats as stateful: its state is the sampler's position.

    `consumed` reads how many batches of this epoch the training loop has *taken*; counting what the
    sampler yielded would be off by the batches Lightning and the workers prefetch.
    """

    def __init__(self, dataset, batch_sampler: FrameBatchSampler, consumed: Callable[[], int], **kwargs) -> None:
        super().__init__(dataset, batch_sampler=batch_sampler, **kwargs)
        self._consumed = consumed

    def state_dict(self) -> dict:
        return self.batch_sampler.state_dict(self._consumed())

    def load_state_dict(self, state: dict) -> None:
        self.batch_sampler.load_state_dict(state)
