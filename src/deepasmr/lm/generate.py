"""Autoregressive speech-token generation, batched, with a KV cache (lm.kv_cache; or without, as a reference).

Prefixes are left-padded (lm.layout) so every row's next token goes in the same column; padded positions are
masked and position ids count real tokens only, so a row decodes the same in a batch as alone. Generation
stops per row at eos (not allowed before the row's minimum length) or at its maximum length, both set from
the length of the target text (LMConfig.min/max_tokens_per_text); rows that hit the maximum are flagged so
callers can count runaways. A text-pointer LM (lm.pointer) also moves each row's pointer after every token.
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
from deepasmr.lm.sampling import DecodeConfig, choose_token


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
        # One generator per row (seed + row index): a row samples the same in any batch.
        return [torch.Generator().manual_seed(seed + i) for i in range(n)]
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
    match. Randomness: `seed` gives row i its own generator seeded `seed + i`; otherwise `generator` (one
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


def _decode(model: SpeechLM, requests, decode: DecodeConfig, use_cache: bool, generators) -> LMOutput:
    cfg = model.cfg
    device = model.speech_embed.weight.device
    rows = [prefix_row(r.text, style_index(r.style), r.prompt_text, r.prompt_speech) for r in requests]
    packed = {k: v.to(device) for k, v in pad_rows(rows, "left").items()}
    embeds = model.embed(packed["ids"], packed["kinds"])
    n = len(requests)
    texts = [torch.as_tensor(list(r.text), dtype=torch.long, device=device) for r in requests]
    ends = torch.tensor([len(t) for t in texts])
    pointers = torch.zeros(n, dtype=torch.long)  # the phone z_1 speaks: the first
    if model.pointer is not None:
        embeds[:, -1] += _pointer_embeds(model, texts, pointers)  # the last prefix position predicts z_1
    mask, positions = packed["attention_mask"], packed["position_ids"]
    bounds = [length_bounds(len(r.text), cfg, decode) for r in requests]
    fast = use_cache and supports(model.backbone)
    if fast:
        cached = CachedBackbone(model.backbone, n, embeds.shape[1] + max(b[1] for b in bounds))
        hidden = cached(embeds, positions, mask)
    else:  # transformers' own cache (a backbone kv_cache does not reproduce), or none: the reference
        cache = DynamicCache(config=model.backbone.config) if use_cache else None
        hidden, cache = model.run(embeds, mask, positions, cache)

    tokens: list[list[int]] = [[] for _ in range(n)]
    spoken: list[list[int]] = [[] for _ in range(n)]
    hit_max = [False] * n
    active = [True] * n
    for step in range(max(b[1] for b in bounds)):
        logits = model.speech_head(hidden[:, -1]).float().cpu()
        too_early = torch.tensor([step < lo for lo, _ in bounds])
        if model.pointer is not None:
            # As in training, eos comes exactly when the pointer moves past the last phone.
            at_end = pointers >= ends
            too_early = ~at_end
            logits[at_end, : cfg.eos_label] = float("-inf")
        logits[too_early, cfg.eos_label] = float("-inf")
        next_ids = torch.zeros(n, 1, dtype=torch.long)
        for b in range(n):
            if not active[b]:
                continue
            token = choose_token(logits[b], tokens[b], decode, generators[b])
            if token == cfg.eos_label:
                active[b] = False
                continue
            tokens[b].append(token)
            spoken[b].append(int(pointers[b]))
            next_ids[b, 0] = token
            if len(tokens[b]) >= bounds[b][1]:
                active[b], hit_max[b] = False, True
        if not any(active):
            break
        # Finished rows keep stepping with a dummy token; their outputs are ignored.
        new = model.embed(next_ids.to(device), torch.full_like(next_ids, KIND_SPEECH).to(device))
        if model.pointer is not None:  # the pointer of the next token: decided at this position
            pointers = _advance(model, hidden[:, -1], pointers, ends, generators)
            new[:, 0] += _pointer_embeds(model, texts, pointers)
        mask = torch.cat([mask, mask.new_ones(n, 1)], dim=1)
        positions = torch.cat([positions, positions[:, -1:] + 1], dim=1)
        if fast:
            hidden = cached(new, positions[:, -1:], mask)
        elif use_cache:
            hidden, cache = model.run(new, mask, positions[:, -1:], cache)
        else:
            embeds = torch.cat([embeds, new], dim=1)
            hidden, _ = model.run(embeds, mask, positions)
    return LMOutput(tokens=tokens, hit_max_len=hit_max, text_positions=spoken if model.pointer is not None else [])


def _pointer_embeds(model: SpeechLM, texts: list[torch.Tensor], pointers: torch.Tensor) -> torch.Tensor:
    device = texts[0].device
    return torch.cat([model.pointer.embed(t, p[None].to(device)) for t, p in zip(texts, pointers, strict=True)])


def _advance(model: SpeechLM, hidden: torch.Tensor, pointers: torch.Tensor, ends: torch.Tensor,
             generators) -> torch.Tensor:
    """Each row's pointer for its next token: one phone on with the advance head's probability (sampled with
    the row's generator, so a row decodes the same alone or in a batch), never past the end of its text."""
    p_move = torch.sigmoid(model.pointer.advance_logit(hidden).float()).cpu()
    moved = torch.tensor([float(torch.rand((), generator=g)) < p for g, p in zip(generators, p_move.tolist(),
                                                                                 strict=True)])
    return torch.minimum(pointers + moved.long(), ends)
