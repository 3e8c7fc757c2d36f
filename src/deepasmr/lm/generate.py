"""Autoregressive speech-token generation, batched, with a KV cache (lm.kv_cache; or without, as a reference).

Prefixes are left-padded (lm.layout) so every row's next token goes in the same column; padded positions are
masked and position ids count real tokens only, so a row decodes the same in a batch as alone. Generation
stops per row at eos (not allowed before the row's minimum length) or at its maximum length, both set from
the length of the target text (LMConfig.min/max_tokens_per_text); rows that hit the maximum are flagged so
callers can count runaways. A text-pointer LM (lm.pointer) also moves each row's pointer after every token.

Two savings for best of N (lm.rerank), which asks for copies of each request: identical prefixes run through
the backbone once and their cache rows are copied, and a row that has finished leaves the batch, so the steps
after it cost only the rows still speaking.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from deepasmr.lm.config import LMConfig, style_index
from deepasmr.lm.kv_cache import CachedBackbone, supports
from deepasmr.lm.layout import KIND_SPEECH, pad_rows, prefix_row
from deepasmr.lm.model import SpeechLM
from deepasmr.lm.sampling import DecodeConfig, choose_tokens, piece_seed
from deepasmr.precision import resolve


@dataclass
class LMRequest:
    """One utterance to generate. Ids are LM text ids and speech-token ids; no prompt = style-only."""

    text: Sequence[int]
    style: str | int
    prompt_text: Sequence[int] = ()
    prompt_speech: Sequence[int] = ()


@dataclass
class LMOutput:
    tokens: list[list[int]] = field(default_factory=list)
    hit_max_len: list[bool] = field(default_factory=list)  # stopped by the length bound, not by eos
    # A text-pointer LM: per token, the index into its request's text of the phone it speaks; else empty.
    text_positions: list[list[int]] = field(default_factory=list)


def length_bounds(n_text: int, cfg: LMConfig, decode: DecodeConfig) -> tuple[int, int]:
    """(min, max) number of generated tokens for a target text of `n_text` units."""
    longest = max(1, math.floor(n_text * cfg.max_tokens_per_text))
    if decode.max_new_tokens is not None:
        longest = min(longest, decode.max_new_tokens)
    shortest = min(math.floor(n_text * cfg.min_tokens_per_text), longest)
    return shortest, longest


def _generators(n: int, generator, seed: int | None) -> list[torch.Generator | None]:
    if seed is not None:
        # One generator per row (sampling.piece_seed): a row samples the same in any batch.
        return [torch.Generator().manual_seed(piece_seed(seed, i)) for i in range(n)]
    if isinstance(generator, (list, tuple)):
        if len(generator) != n:
            raise ValueError(f"{len(generator)} generators for {n} requests")
        return list(generator)
    return [generator] * n


@torch.inference_mode()
def generate(
    model: SpeechLM,
    requests: Sequence[LMRequest],
    decode: DecodeConfig | None = None,
    *,
    use_cache: bool = True,
    generator: torch.Generator | Sequence[torch.Generator] | None = None,
    seed: int | None = None,
) -> LMOutput:
    """Speech tokens for each request (eos not included).

    `use_cache=False` re-runs the whole sequence every step: the slow reference the KV-cached path must
    match. Randomness: `seed` gives row i its own generator seeded `piece_seed(seed, i)`; otherwise `generator` (one
    shared, or one per row)."""
    decode = decode or DecodeConfig()
    if not requests:
        return LMOutput()
    was_training = model.training
    model.eval()
    try:
        return _decode(model, requests, decode, use_cache, _generators(len(requests), generator, seed))
    finally:
        model.train(was_training)


class _Backbone:
    """The backbone over a batch whose rows may be regrouped between calls (`select`): on the preallocated KV
    cache (lm.kv_cache), on transformers' own cache, or on none (the reference: the whole sequence each call)."""

    def __init__(self, model: SpeechLM, use_cache: bool, batch: int, capacity: int, precision: str):
        self.model = model
        fast = use_cache and supports(model.backbone)
        # Rounded to bfloat16 only when asked; otherwise the products run in the backbone's own dtype.
        bf16 = resolve(precision, model.speech_embed.weight.device) == torch.bfloat16
        matmul_dtype = torch.bfloat16 if bf16 else None
        self.cached = CachedBackbone(model.backbone, batch, capacity, matmul_dtype) if fast else None
        self.cache = DynamicCache(config=model.backbone.config) if use_cache and not fast else None
        self.inputs: torch.Tensor | None = None  # without a cache: every input so far

    def __call__(self, embeds: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hidden states [B, n, H] of the n new inputs `embeds`; positions and mask cover the whole sequence."""
        n = embeds.shape[1]
        if self.cached is not None:
            return self.cached(embeds, positions[:, -n:], mask)
        if self.cache is not None:
            hidden, self.cache = self.model.run(embeds, mask, positions[:, -n:], self.cache)
            return hidden
        self.inputs = embeds if self.inputs is None else torch.cat([self.inputs, embeds], dim=1)
        return self.model.run(self.inputs, mask, positions)[0][:, -n:]

    def select(self, rows: torch.Tensor) -> None:
        if self.cached is not None:
            self.cached.select(rows)
        elif self.cache is not None:
            self.cache.reorder_cache(rows)
        else:
            self.inputs = self.inputs[rows]


def _decode(model: SpeechLM, requests, decode: DecodeConfig, use_cache: bool, generators) -> LMOutput:
    cfg = model.cfg
    device = model.speech_embed.weight.device
    n = len(requests)
    rows = [prefix_row(r.text, style_index(r.style), r.prompt_text, r.prompt_speech) for r in requests]
    # Identical prefixes (best of N's copies of one request) go through the backbone once and are then copied.
    firsts, copy_of = _distinct(rows)
    packed = {k: v.to(device) for k, v in pad_rows([rows[i] for i in firsts], "left").items()}
    embeds = model.embed(packed["ids"], packed["kinds"])
    # Each request's phones in a row: the text pointer's lookup table (None for an LM without one).
    texts = _phone_table(model, requests, device)
    ends = torch.tensor([len(r.text) for r in requests])
    pointers = torch.zeros(n, dtype=torch.long)  # the phone z_1 speaks: the first
    if model.pointer is not None:  # the last prefix position predicts z_1
        embeds[:, -1] += model.pointer.embed_rows(texts[firsts], ends[firsts], pointers[firsts])
    bounds = [length_bounds(len(r.text), cfg, decode) for r in requests]
    backbone = _Backbone(model, use_cache, len(firsts), embeds.shape[1] + max(hi for _, hi in bounds),
                         decode.precision)
    hidden = backbone(embeds, packed["position_ids"], packed["attention_mask"])[:, -1]
    copy_of = copy_of.to(device)
    backbone.select(copy_of)
    hidden, mask, positions = (t[copy_of] for t in (hidden, packed["attention_mask"], packed["position_ids"]))

    tokens: list[list[int]] = [[] for _ in range(n)]
    spoken: list[list[int]] = [[] for _ in range(n)]
    hit_max = [False] * n
    live = torch.arange(n)  # the request of each batch row; rows leave the batch when they finish
    for step in range(max(hi for _, hi in bounds)):
        logits = model.speech_head(hidden).float().cpu()
        requests_now = live.tolist()
        too_early = torch.tensor([step < bounds[i][0] for i in requests_now])
        if model.pointer is not None:
            # As in training, eos comes exactly when the pointer moves past the last phone.
            at_end = pointers[live] >= ends[live]
            too_early = ~at_end
            logits[at_end, : cfg.eos_label] = float("-inf")
        logits[too_early, cfg.eos_label] = float("-inf")
        chosen = choose_tokens(logits, [tokens[i] for i in requests_now], decode,
                               [generators[i] for i in requests_now])
        going = []
        for b, (i, token) in enumerate(zip(requests_now, chosen, strict=True)):
            if token == cfg.eos_label:
                continue
            tokens[i].append(token)
            spoken[i].append(int(pointers[i]))
            if len(tokens[i]) >= bounds[i][1]:
                hit_max[i] = True
            else:
                going.append(b)
        if not going:
            break
        if len(going) < len(live):  # finished rows leave the batch: later steps cost only the rows still going
            live = live[going]
            requests_now = live.tolist()
            keep = torch.tensor(going, device=device)
            hidden, mask, positions = (t[keep] for t in (hidden, mask, positions))
            backbone.select(keep)
        next_ids = torch.tensor([[tokens[i][-1]] for i in requests_now], device=device)
        new = model.embed(next_ids, torch.full_like(next_ids, KIND_SPEECH))
        if model.pointer is not None:  # the pointer of the next token: decided at this position
            pointers[live] = _advance(model, hidden, pointers[live], ends[live], [generators[i] for i in requests_now])
            new[:, 0] += model.pointer.embed_rows(texts[live.to(device)], ends[live], pointers[live])
        mask = torch.cat([mask, mask.new_ones(len(live), 1)], dim=1)
        positions = torch.cat([positions, positions[:, -1:] + 1], dim=1)
        hidden = backbone(new, positions, mask)[:, -1]
    return LMOutput(tokens=tokens, hit_max_len=hit_max, text_positions=spoken if model.pointer is not None else [])


def _distinct(rows: list) -> tuple[list[int], torch.Tensor]:
    """(the index of each distinct row's first occurrence, for every row its distinct row's place in that list)."""
    firsts: list[int] = []
    place: dict[tuple, int] = {}
    copy_of = []
    for i, row in enumerate(rows):
        key = (tuple(row.ids.tolist()), tuple(row.kinds.tolist()))
        if key not in place:
            place[key] = len(firsts)
            firsts.append(i)
        copy_of.append(place[key])
    return firsts, torch.tensor(copy_of)


def _phone_table(model: SpeechLM, requests, device) -> torch.Tensor | None:
    if model.pointer is None:
        return None
    return model.pointer.table([torch.as_tensor(list(r.text), dtype=torch.long, device=device) for r in requests])


def _advance(model: SpeechLM, hidden: torch.Tensor, pointers: torch.Tensor, ends: torch.Tensor,
             generators) -> torch.Tensor:
    """Each row's pointer for its next token: one phone on with the advance head's probability (sampled with
    the row's generator, so a row decodes the same alone or in a batch), never past the end of its text."""
    p_move = torch.sigmoid(model.pointer.advance_logit(hidden).float()).cpu()
    moved = torch.tensor([float(torch.rand((), generator=g)) < p for g, p in zip(generators, p_move.tolist(),
                                                                                 strict=True)])
    return torch.minimum(pointers + moved.long(), ends)
