"""Does the LM read its text yet? An attention probe of teacher-forced rows.

A decoder-only TTS LM learns to speak its text when some attention head follows the text monotonically: at
each target speech position it looks at the phone being spoken. For every head we take, per target position,
the text position it attends to most, and the Spearman rank correlation of that path with time. A head that
reads has rho near 1; an LM that has not found the alignment yet (it then babbles in the right voice and
style) stays well below. The figure per (style, language) is the mean over utterances of the best head's rho.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from deepasmr.lm.layout import training_row
from deepasmr.lm.model import SpeechLM, eager_attention

TEXT_START = 2  # [sos] [style] come first in a prompt-free row (deepasmr.lm.layout)


@torch.no_grad()
def text_attention(model: SpeechLM, text_ids: Sequence[int], style: int, speech: torch.Tensor) -> np.ndarray:
    """[layers, heads, target positions, text positions] attention of a prompt-free teacher-forced row."""
    row = training_row(torch.as_tensor(text_ids), style, [], [], speech.long(), model.cfg.eos_label)
    device = model.speech_embed.weight.device
    ids, kinds = row.ids[None].to(device), row.kinds[None].to(device)
    with eager_attention(model.backbone):
        _, _, attentions = model.run(model.embed(ids, kinds), torch.ones_like(ids),
                                     torch.arange(ids.shape[1], device=device)[None], attentions=True)
    text_end = TEXT_START + len(text_ids)
    first_target = text_end + 1  # after [task]
    maps = torch.stack([a[0, :, first_target:, TEXT_START:text_end] for a in attentions])
    return maps.float().cpu().numpy()


def monotonicity(maps: np.ndarray) -> np.ndarray:
    """[layers, heads] Spearman rho between target position and the text position each head attends most."""
    from scipy.stats import spearmanr

    n_layers, n_heads, n_target, _ = maps.shape
    rho = np.zeros((n_layers, n_heads))
    if n_target < 3:
        return rho
    time = np.arange(n_target)
    for layer in range(n_layers):
        for head in range(n_heads):
            path = maps[layer, head].argmax(-1)
            if path.min() != path.max():  # a head fixed on one phone has no defined rank correlation
                rho[layer, head] = spearmanr(time, path).statistic
    return rho


def alignment_report(model: SpeechLM, items, groups: dict[str, list[int]], per_group: int) -> dict:
    """items: indexable PairDataset-style items (text, style, speech); per group the mean best-head rho over `per_group`
    utterances, and the head (layer.head) that is best most often."""
    out = {}
    for name, idx in groups.items():
        best, heads = [], []
        for i in idx[:per_group]:
            it = items[i]
            rho = monotonicity(text_attention(model, it["text"].tolist(), int(it["style"]), it["speech"]))
            layer, head = np.unravel_index(rho.argmax(), rho.shape)
            best.append(float(rho[layer, head]))
            heads.append(f"{layer}.{head}")
        if best:
            out[name] = {"n": len(best), "best_head_rho": float(np.mean(best)),
                         "most_frequent_best_head": max(set(heads), key=heads.count)}
    return out


def plot_alignment(model: SpeechLM, item: dict, path: str | Path, title: str = "") -> Path:
    """PNG of the best-reading head's attention (text position over target position) for one utterance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepasmr.atomic import save_figure

    maps = text_attention(model, item["text"].tolist(), int(item["style"]), item["speech"])
    rho = monotonicity(maps)
    layer, head = np.unravel_index(rho.argmax(), rho.shape)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.imshow(maps[layer, head].T, origin="lower", aspect="auto", interpolation="nearest")
    ax.set_xlabel("target speech token")
    ax.set_ylabel("text position")
    ax.set_title(f"{title} best head {layer}.{head}: rho {rho[layer, head]:.2f}".strip())
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
