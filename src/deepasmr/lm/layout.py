"""Packing of one LM sequence. Row layout (our reading of DeepASMR, extending CosyVoice 2):

    [sos] [style:S_output] P_task-text T-text [task] P_task-speech-tokens | z_1 … z_n [eos]

Everything left of `|` is the prefix (what generation is conditioned on); a training row appends the target
tokens z. Each position carries an id and a *kind* (text, speech, special) that picks its embedding table.
Labels: the position before z_1 predicts z_1, z_n predicts eos, every other position is ignored, so the
loss covers the target's speech tokens and eos only (never the prompt's). Without a task prompt the row is
`[sos] [style] T-text [task] | z …`: the style token alone says how to speak.

Rows are built from 1-D long tensors and padded afterwards: right padding for training (positions start at
0 in every row, padding at the end is simply masked), left padding for generation (every row's last prefix
position sits in the same column, so one step feeds one new column for the whole batch).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepasmr.lm.config import IGNORE_INDEX, SOS, STYLE_OFFSET, TASK

KIND_PAD, KIND_TEXT, KIND_SPEECH, KIND_SPECIAL = 0, 1, 2, 3


@dataclass
class Row:
    ids: torch.Tensor
    kinds: torch.Tensor
    labels: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _segment(ids: torch.Tensor | list[int], kind: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
    return ids, torch.full_like(ids, kind)


def prefix_row(text, style: int, prompt_text=(), prompt_speech=()) -> Row:
    """Generation prefix; `style` is an index into config.STYLES."""
    parts = [
        _segment([SOS, STYLE_OFFSET + style], KIND_SPECIAL),
        _segment(prompt_text, KIND_TEXT),
        _segment(text, KIND_TEXT),
        _segment([TASK], KIND_SPECIAL),
        _segment(prompt_speech, KIND_SPEECH),
    ]
    return Row(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]))


def training_row(text, style: int, prompt_text, prompt_speech, target, eos_label: int) -> Row:
    """Prefix + target tokens, with labels shifted so position t predicts the token at t + 1."""
    row = prefix_row(text, style, prompt_text, prompt_speech)
    target_ids, target_kinds = _segment(target, KIND_SPEECH)
    ids = torch.cat([row.ids, target_ids])
    kinds = torch.cat([row.kinds, target_kinds])
    labels = torch.full_like(ids, IGNORE_INDEX)
    start = len(row) - 1  # last prefix position predicts z_1
    labels[start : start + len(target_ids)] = target_ids
    labels[start + len(target_ids)] = eos_label
    return Row(ids, kinds, labels)


def pad_rows(rows: list[Row], side: str) -> dict[str, torch.Tensor]:
    """Stack rows into (B, L) ids / kinds / attention_mask / position_ids (+ labels when rows have them)."""
    if side not in ("left", "right"):
        raise ValueError(f"padding side must be 'left' or 'right', not {side!r}")
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    kinds = torch.full_like(ids, KIND_PAD)
    labels = torch.full_like(ids, IGNORE_INDEX)
    for b, row in enumerate(rows):
        span = slice(width - len(row), width) if side == "left" else slice(0, len(row))
        ids[b, span] = row.ids
        kinds[b, span] = row.kinds
        if row.labels is not None:
            labels[b, span] = row.labels
    mask = (kinds != KIND_PAD).long()
    # Positions count real tokens only, so a left-padded row sees the same positions as it would alone.
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    out = {"ids": ids, "kinds": kinds, "attention_mask": mask, "position_ids": positions}
    if any(r.labels is not None for r in rows):
        out["labels"] = labels
    return out


def _unpad(values: torch.Tensor, lens: torch.Tensor | None, b: int) -> torch.Tensor:
    if values is None:
        return torch.zeros(0, dtype=torch.long)
    n = int(lens[b]) if lens is not None else values.shape[1]
    return values[b, :n]


def rows_from_batch(batch: dict, eos_label: int) -> list[Row]:
    """Training rows from a collated batch of right-padded fields (see lm.data.collate)."""
    rows = []
    for b in range(len(batch["style"])):
        rows.append(
            training_row(
                _unpad(batch["text"], batch["text_lens"], b),
                int(batch["style"][b]),
                _unpad(batch.get("prompt_text"), batch.get("prompt_text_lens"), b),
                _unpad(batch.get("prompt_speech"), batch.get("prompt_speech_lens"), b),
                _unpad(batch["speech"], batch["speech_lens"], b),
                eos_label,
            )
        )
    return rows

