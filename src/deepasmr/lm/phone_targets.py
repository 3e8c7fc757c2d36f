"""Which phone of its text each target speech token speaks: labels for the LM's auxiliary phone loss.

Why (beyond the paper): the tiny LM predicts the next speech token from its speech history and barely reads
its text (dev: another utterance's text moves teacher-forced accuracy by under one point), so it babbles. The
auxiliary head (SpeechLM, `phone_aux_weight`) asks every target position for the phone of the token it is
about to write and for the phone after that one. The history says roughly where the speech is; only the text
says what comes next, so the shared hidden state has to keep its place in the text.

The alignment is CTC forced alignment (Viterbi) of the tokenizer's own CTC head, which reads phones from the
speech tokens (PER 0.1-0.2 on held-out speakers), to the utterance's known phone sequence. Frames the head
calls blank belong to the phone before them (a CTC spike marks where a phone starts).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm import tqdm

from deepasmr.errors import DataError

_NEG = -1e30


def ctc_forced_alignment(logp: np.ndarray, target: Sequence[int], blank: int = 0) -> np.ndarray | None:
    """(T, V) log-probs + target ids (no blanks) -> (T,) index into `target` per frame; None when T frames
    cannot hold the target (CTC needs a blank between repeated labels)."""
    n_frames, n = len(logp), len(target)
    if n == 0 or n_frames == 0:
        return None
    states = np.full(2 * n + 1, blank)
    states[1::2] = target
    emit = logp[:, states]
    # A label state may be entered from two states back (skipping the blank) unless it repeats that label.
    can_skip = np.zeros(len(states), dtype=bool)
    can_skip[3::2] = np.asarray(target[1:]) != np.asarray(target[:-1])
    score = np.full(len(states), _NEG)
    score[:2] = emit[0, :2]
    back = np.zeros((n_frames, len(states)), dtype=np.int8)
    for t in range(1, n_frames):
        step = np.concatenate(([_NEG], score[:-1]))
        skip = np.where(can_skip, np.concatenate(([_NEG, _NEG], score[:-2])), _NEG)
        moves = np.stack([score, step, skip])
        back[t] = moves.argmax(0)
        score = moves[back[t], np.arange(len(states))] + emit[t]
    last = len(states) - 1 if score[-1] >= score[-2] else len(states) - 2
    if score[last] < _NEG / 2:
        return None
    path = np.empty(n_frames, dtype=np.int64)
    for t in range(n_frames - 1, -1, -1):
        path[t] = last
        last -= int(back[t, last])
    # Label state 2i+1 is phone i; blank state 2i belongs to phone i-1 (the leading blank to phone 0).
    return np.maximum((path - 1) // 2, 0)


def proportional_alignment(n_frames: int, n_phones: int) -> np.ndarray:
    """Fallback: phones spread evenly over the frames."""
    return np.minimum(np.arange(n_frames) * n_phones // max(1, n_frames), max(0, n_phones - 1))


def token_phone_positions(tokenizer_dir: str, shard_vocab: Sequence[str], utterances: Sequence,
                          batch_size: int = 64) -> tuple[list[torch.Tensor], int]:
    """Per utterance (lm.data.Utterance: tokens, phones) the phone index each speech token speaks, and how
    many utterances fell back to the proportional alignment. The tokenizer must be the one that wrote the
    shards: its vocabulary has to match the shards' (meta.json)."""
    from deepasmr.tokenizer.io import load_tokenizer

    model, vocab, _ = load_tokenizer(tokenizer_dir)
    if shard_vocab and list(shard_vocab) != vocab.symbols:
        raise DataError(f"{tokenizer_dir}: its phone vocabulary differs from the shards'; align with the "
                        "tokenizer that wrote them")
    positions: list[torch.Tensor] = []
    fallbacks = 0
    for start in tqdm(range(0, len(utterances), batch_size), desc="aligning phones", leave=False):
        chunk = utterances[start : start + batch_size]
        logps = model.tokens_to_phone_logprobs([u.tokens for u in chunk])
        for u, logp in zip(chunk, logps, strict=True):
            path = ctc_forced_alignment(logp.numpy(), vocab.encode(u.phones)) if len(u.phones) else None
            if path is None:
                fallbacks += 1
                path = proportional_alignment(len(u.tokens), len(u.phones))
            positions.append(torch.from_numpy(path))
    return positions, fallbacks
