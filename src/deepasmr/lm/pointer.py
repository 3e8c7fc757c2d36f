"""Text pointer (beyond the paper; `LMConfig.text_pointer`): the LM is told which phone it is speaking.

Why: trained from scratch on ~10 h, the tiny LM never learned to find its place in the text by attention. Its
next token came from the speech history (another utterance's text cost it < 1 point of accuracy), so it
babbled; a phone loss and attention guided to the CTC-aligned phone moved little in CPU-sized runs
(configs/lm_tiny_v5.yaml, v6). Here every target position's input carries the embeddings of the phone its
token speaks and of the phone after it, and a head decides after each token whether the next one moves on to
the next phone. The LM then only learns what each phone sounds like in this voice and style, and how long it
lasts — the alignment is explicit and monotonic, as in duration-based TTS, but still decided token by token.

Training reads the pointer from lm.phone_targets' CTC alignment; generation moves it with the advance head.
Position q_k predicts z_k and carries the pointer of z_k (the last one, predicting eos, the end-of-text row).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TextPointer(nn.Module):
    """Pointer embeddings (phone now, phone next; row `text_vocab` = past the end of the text) and the advance
    head. Zero-initialised: added to a trained LM it changes nothing until it learns."""

    def __init__(self, hidden: int, text_vocab: int):
        super().__init__()
        self.end = text_vocab
        self.now = nn.Embedding(text_vocab + 1, hidden)
        self.next = nn.Embedding(text_vocab + 1, hidden)
        self.advance = nn.Linear(hidden, 1)
        for layer in (self.now, self.next, self.advance):
            nn.init.zeros_(layer.weight)
        nn.init.zeros_(self.advance.bias)

    def table(self, texts: list[torch.Tensor]) -> torch.Tensor:
        """1-D phone ids, one text per row, padded with the end id: at least two columns past every text, so a
        pointer at its text's end still has a phone after it."""
        table = texts[0].new_full((len(texts), max(len(t) for t in texts) + 2), self.end)
        for row, text in zip(table, texts, strict=True):
            row[: len(text)] = text
        return table

    def embed(self, text: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """(len(pos), hidden) for pointer positions `pos` into the 1-D phone ids `text` (pos >= len: end)."""
        padded = self.table([text.to(pos.device)])[0]
        pos = pos.clamp(max=len(text))
        return self.now(padded[pos]) + self.next(padded[pos + 1])

    def embed_rows(self, table: torch.Tensor, ends: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """(B, hidden): row b's embedding for pointer pos[b] into its text, row b of `table` (of length
        ends[b]); one lookup for a whole decoding batch."""
        at = torch.minimum(pos, ends).to(table.device)[:, None]
        return (self.now(table.gather(1, at)) + self.next(table.gather(1, at + 1)))[:, 0]

    def advance_logit(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.advance(hidden).squeeze(-1)


def with_end(phone_pos: torch.Tensor, n_text: int) -> torch.Tensor:
    """Pointers of the n target tokens plus the eos position's (past the end of the text)."""
    return torch.cat([phone_pos.clamp(max=max(0, n_text - 1)), phone_pos.new_tensor([n_text])])


def advance_loss(logits: torch.Tensor, pointers: torch.Tensor) -> torch.Tensor:
    """BCE of the decision made at q_k (k = 1..n): does z_{k+1} (or eos) speak a later phone than z_k?"""
    moved = (pointers[1:] > pointers[:-1]).float()
    return F.binary_cross_entropy_with_logits(logits.float(), moved)
