"""Next-token choice: greedy, or top-k / top-p sampling with CosyVoice 2's repetition-aware sampling (RAS).

RAS: draw from the top-k / top-p nucleus; if the drawn token already occurs at least `ras_window * ras_tau`
times among the last `ras_window` generated tokens, draw again from the *full* distribution. Speech-token LMs
loop on short patterns (silence, a held vowel) when sampling stays inside a narrow nucleus; the occasional
wide draw breaks the loop without flattening every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from deepasmr.precision import PRECISIONS

# Between the seeds of the sentences (pieces) of one request: piece i of a request at seed s draws with
# s + i * PIECE_SEED_STRIDE, in the LM, the flow's noise and the vocoder's phase. With a stride of one (until
# session 29) piece i at seed s was piece i - 1 at seed s + 1, so neighbouring seeds shared most of a long text's
# draws. Prime, and small enough that 126 pieces stay below the stride between candidates.
PIECE_SEED_STRIDE = 7_919
# Between the seeds of one piece's best-of-N candidates (lm.rerank): far from the seeds a caller passes next, and
# small enough that every candidate's seed stays below 2**32 (torch's CPU generator keeps only the low 32 bits).
CANDIDATE_SEED_STRIDE = 1_000_003


def piece_seed(seed: int, piece: int) -> int:
    return seed + piece * PIECE_SEED_STRIDE


@dataclass
class DecodeConfig:
    greedy: bool = False
    temperature: float = 1.0
    top_k: int = 25
    top_p: float = 0.8
    ras_window: int = 10
    ras_tau: float = 0.1
    # Hard cap on generated tokens, on top of the per-text bound of LMConfig.max_tokens_per_text.
    max_new_tokens: int | None = None
    # The backbone's matrix products while decoding with the KV cache (deepasmr.precision; lm.kv_cache says why
    # only those): "auto" = bfloat16 where the hardware has it natively.
    precision: str = "fp32"

    def __post_init__(self):
        if self.temperature <= 0:
            raise ValueError("temperature must be > 0 (use greedy=True for argmax decoding)")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")


def nucleus(logits: torch.Tensor, top_k: int, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row of (..., V) logits, the sampling distribution after the top-k and top-p cuts (top-1 always kept):
    (probabilities (..., k) over the top-k tokens, renormalised, zero where top-p cut them; their token ids)."""
    # topk instead of a full sort, and draws over k entries instead of V: decoding is per-step-overhead bound.
    k = top_k if 0 < top_k < logits.shape[-1] else logits.shape[-1]
    top_logits, order = logits.topk(k, dim=-1)
    probs = logits.softmax(dim=-1).gather(-1, order)
    # Keep a token while the mass *before* it is below top_p, so the token crossing top_p is kept too.
    keep = probs.cumsum(dim=-1) - probs < top_p
    keep[..., 0] = True
    return top_logits.masked_fill(~keep, float("-inf")).softmax(dim=-1), order


def nucleus_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """(..., V) log-probabilities of the nucleus (`nucleus`), -inf outside it."""
    probs, order = nucleus(logits, top_k, top_p)
    return torch.full_like(logits, float("-inf")).scatter_(-1, order, probs.log())


def _draw(probs: torch.Tensor, generator: torch.Generator | None) -> int:
    if generator is not None:
        probs = probs.to(generator.device)  # a CPU generator can drive a model on another device
    return int(torch.multinomial(probs, 1, generator=generator))


def repeats_too_often(token: int, history: Sequence[int], window: int, tau: float) -> bool:
    recent = history[-window:] if window > 0 else []
    return window > 0 and sum(1 for t in recent if t == token) >= window * tau


def choose_tokens(
    logits: torch.Tensor,
    histories: Sequence[Sequence[int]],
    cfg: DecodeConfig,
    generators: Sequence[torch.Generator | None],
) -> list[int]:
    """One next token per row of (B, V) logits, given each row's tokens so far; row b draws with
    generators[b]. The nucleus is cut for all rows at once (the per-step cost of a small LM is per-op
    overhead); the draws stay one per row so that a row samples the same in any batch."""
    if cfg.greedy:
        return logits.argmax(dim=-1).tolist()
    scaled = logits.float() / cfg.temperature
    probs, order = nucleus(scaled, cfg.top_k, cfg.top_p)
    tokens = []
    for row, (history, generator) in enumerate(zip(histories, generators, strict=True)):
        token = int(order[row, _draw(probs[row], generator)])
        if repeats_too_often(token, history, cfg.ras_window, cfg.ras_tau):
            token = _draw(scaled[row].softmax(dim=-1), generator)
        tokens.append(token)
    return tokens


def choose_token(
    logits: torch.Tensor,
    history: Sequence[int],
    cfg: DecodeConfig,
    generator: torch.Generator | None = None,
) -> int:
    """One next token from (V,) logits given the tokens generated so far for this sequence."""
    return choose_tokens(logits[None], [history], cfg, [generator])[0]
