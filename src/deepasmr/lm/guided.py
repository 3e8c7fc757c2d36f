"""Guided attention: a training-time push for a few heads to read the text in order (beyond the paper).

A decoder-only TTS LM must discover on its own that target speech token t belongs to phone ~ t/T of the
text. With CPU-sized compute the tiny LM had not found it after 2,300 steps (`deepasmr.lm.alignment`: best
head rho ~0.5, no diagonal), so it babbles. Tachibana et al. (2017, DC-TTS) penalise attention far from
the diagonal, W[t, n] = 1 - exp(-(n/N - t/T)^2 / (2 g^2)); we apply it to the target -> T-text block of a few
heads only (the other heads stay free). Attention those heads put anywhere but T-text (prompt, special tokens,
earlier speech) counts as fully off the diagonal: a first version renormalised over the text instead, and
the heads dodged it within 50 steps by moving all their mass off the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RowSpans:
    """Where T-text and the target's speech tokens sit in one right-padded training row (lm.layout)."""

    text_start: int
    text_end: int
    target_start: int
    target_end: int


def _len(batch: dict, key: str, b: int) -> int:
    lens = batch.get(f"{key}_lens")
    if lens is not None:
        return int(lens[b])
    return 0 if batch.get(key) is None else batch[key].shape[1]


def row_spans(batch: dict) -> list[RowSpans]:
    """Spans per row of `[sos] [style] P-text T-text [task] P-speech | z … [eos]` from the batch lengths."""
    spans = []
    for b in range(len(batch["style"])):
        text_start = 2 + _len(batch, "prompt_text", b)
        text_end = text_start + _len(batch, "text", b)
        # The position holding z_k predicts z_{k+1}: the attention rows that produce z are the ones from the
        # last prefix position on, i.e. they start one before z_1.
        target_start = text_end + 1 + _len(batch, "prompt_speech", b) - 1
        spans.append(RowSpans(text_start, text_end, target_start, target_start + _len(batch, "speech", b)))
    return spans


def diagonal_penalty(n_target: int, n_text: int, sigma: float) -> torch.Tensor:
    """[n_target, n_text] weights: 0 on the diagonal, towards 1 far from it."""
    t = torch.arange(n_target, dtype=torch.float32)[:, None] / max(1, n_target)
    n = torch.arange(n_text, dtype=torch.float32)[None, :] / max(1, n_text)
    return 1.0 - torch.exp(-((n - t) ** 2) / (2 * sigma**2))


def aligned_penalty(phone_pos: torch.Tensor, n_text: int, sigma: float) -> torch.Tensor:
    """[n_target, n_text] weights: 0 at the phone each target token speaks (lm.phone_targets' alignment),
    towards 1 away from it; `sigma` in phones."""
    n = torch.arange(n_text, dtype=torch.float32)[None, :]
    return 1.0 - torch.exp(-((n - phone_pos.float()[:, None]) ** 2) / (2 * sigma**2))


def guided_attention_loss(attentions: tuple[torch.Tensor, ...], spans: list[RowSpans], layers: list[int],
                          heads: int, sigma: float, phone_pos: torch.Tensor | None = None,
                          aligned_sigma: float = 0.0) -> torch.Tensor:
    """Mean off-diagonal attention mass of the first `heads` heads of `layers` for the target rows, where any
    mass outside T-text has penalty 1: 1 - sum_n A[t, n] (1 - W[t, n]). attentions: per layer [B, H, L, L].
    With `phone_pos` (B, n_target) and `aligned_sigma` > 0 the target is each token's aligned phone instead of
    the proportional diagonal: a speaker's pace is not t/T, and a head pointing a few phones off cannot tell
    the LM which phone comes next."""
    total, count = attentions[0].new_zeros(()), 0
    for b, s in enumerate(spans):
        n_target, n_text = s.target_end - s.target_start, s.text_end - s.text_start
        if n_target < 2 or n_text < 2:
            continue
        if phone_pos is not None and aligned_sigma > 0:
            penalty = aligned_penalty(phone_pos[b, :n_target].clamp(max=n_text - 1), n_text, aligned_sigma)
        else:
            penalty = diagonal_penalty(n_target, n_text, sigma)
        penalty = penalty.to(attentions[0].device)
        for layer in layers:
            block = attentions[layer][b, :heads, s.target_start:s.target_end, s.text_start:s.text_end].float()
            total = total + (1.0 - (block * (1.0 - penalty)).sum(-1)).mean()
            count += 1
    return total / max(1, count)
