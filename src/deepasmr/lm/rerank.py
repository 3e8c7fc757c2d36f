"""Best of N: sample several token sequences per utterance, keep the one whose phones read closest to the text.

The tiny LM's sampled tokens sometimes drop or blur a word; a second draw from the same prompt often says it.
The speech tokenizer's CTC phone head reads phones from tokens alone (no audio), so every candidate can be
scored against the target text's phones before the costly flow decoder runs: the score is the CTC negative
log-likelihood of the reference phones given the candidate's tokens (a forced-alignment likelihood, not a
greedy transcript, so near-misses still rank). Candidates decode as one batch, which costs far less than N
separate runs: the shared prompt goes through the LM once (lm.generate), and on 2 CPU cores a step of 8 rows
costs about twice a step of one.

Candidate c of request j draws with seed `piece_seed(seed, j) + c * CANDIDATE_SEED_STRIDE`: candidate 0 is
exactly what plain sampling with that seed gives, so one candidate reproduces `generate` and runs with more
candidates compare entry by entry against it. The other candidates' seeds lie far from any seed a caller passes
next: with a stride of one request (as until session 28), runs at seeds 0, 1, 2 shared 7 of their 8 candidates
per sentence, so "three seeds" were far from three independent draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepasmr.lm.generate import LMOutput, LMRequest, generate
from deepasmr.lm.sampling import CANDIDATE_SEED_STRIDE, DecodeConfig, piece_seed

UNREADABLE = float("inf")  # a candidate too short to hold the reference's phones under CTC


@dataclass(frozen=True)
class Choice:
    index: int  # the kept candidate
    scores: list[float]  # every candidate's CTC NLL per reference phone


@torch.inference_mode()
def phone_scores(tokenizer, candidates: Sequence[Sequence[int]], reference: Sequence[int]) -> list[float]:
    """CTC NLL per reference phone of `reference` (tokenizer phone ids, no blank) under each candidate's
    tokens; lower reads better. An empty reference scores every candidate 0 (nothing to tell them apart)."""
    if not reference:
        return [0.0] * len(candidates)
    scores = [UNREADABLE] * len(candidates)
    readable = [i for i, c in enumerate(candidates) if len(c) > 0]
    if not readable:
        return scores
    logps = tokenizer.tokens_to_phone_logprobs([torch.as_tensor(list(candidates[i])) for i in readable])
    target = torch.as_tensor(list(reference), dtype=torch.long)
    for i, logp in zip(readable, logps, strict=True):
        nll = F.ctc_loss(logp.float()[:, None], target[None], torch.tensor([logp.shape[0]]),
                         torch.tensor([len(target)]), blank=0, reduction="sum", zero_infinity=False)
        if torch.isfinite(nll):
            scores[i] = float(nll) / len(target)
    return scores


def best_of(lm, tokenizer, requests: Sequence[LMRequest], references: Sequence[Sequence[int]],
            decode: DecodeConfig, candidates: int, seed: int | None = None) -> tuple[LMOutput, list[Choice]]:
    """`generate` with `candidates` draws per request, each request keeping its best-read draw (ties: the
    earliest). Returns the chosen output and, per request, which candidate won and every candidate's score."""
    if candidates < 1:
        raise ValueError(f"candidates must be >= 1, not {candidates}")
    if len(references) != len(requests):
        raise ValueError(f"{len(references)} references for {len(requests)} requests")
    n = len(requests)
    if candidates == 1 or decode.greedy:  # greedy draws are all the same
        return generate(lm, requests, decode, seed=seed), [Choice(0, [0.0]) for _ in range(n)]
    generators = None
    if seed is not None:
        generators = [torch.Generator().manual_seed(piece_seed(seed, j) + c * CANDIDATE_SEED_STRIDE)
                      for c in range(candidates) for j in range(n)]
    out = generate(lm, [r for _ in range(candidates) for r in requests], decode, generator=generators)
    chosen, choices = LMOutput(), []
    for j in range(n):
        rows = [j + c * n for c in range(candidates)]
        scores = phone_scores(tokenizer, [out.tokens[r] for r in rows], references[j])
        winner = min(range(candidates), key=lambda c: (scores[c], c))
        best = rows[winner]
        chosen.tokens.append(out.tokens[best])
        chosen.hit_max_len.append(out.hit_max_len[best])
        if out.text_positions:
            chosen.text_positions.append(out.text_positions[best])
        choices.append(Choice(winner, scores))
    return chosen, choices
