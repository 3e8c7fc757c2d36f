"""The frame layout shared by training and inference.

Every sequence the velocity network sees is one frame grid at the mel rate:

    [ prompt frames (given: mel copied into the condition) | target frames (generated) ] + padding

Inference: the prompt region is the speaker prompt's mel (P frames) with its tokens if known; the
target region is len(tokens) x token_ratio frames, and only it is returned.
Training ("prefix" mode) cuts the *same* layout out of one utterance: its first P frames are the
prompt and the rest the target, P a multiple of token_ratio so that token ids line up exactly
as they do when prompt and target tokens are given separately. "span" mode (Voicebox) masks any
contiguous span, of which the prefix layout is a special case. With a separate prompt utterance
(`separate_prompt_prob`) the training layout is literally the inference one.

Tokens reach the network as frame-rate ids: frame f of a region with tokens z gets
z[min(f // ratio, len(z) - 1)], so a region whose frame count is not exactly len(z) x ratio still
aligns from its start. Frames without tokens carry the pad id. Phone ids (FlowConfig.phone_vocab), one per
token, reach it the same way; prompt frames and padding carry the "unknown phone" id. F0 (FlowConfig.pitch_cond)
is already per frame; prompt frames and padding carry "unknown" (deepasmr.flow.pitch.UNKNOWN_F0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepasmr.flow.pitch import UNKNOWN_F0


def frame_token_ids(tokens: torch.Tensor, n_frames: int, ratio: int, pad: int) -> torch.Tensor:
    """tokens [N] -> [n_frames] ids at the mel rate (pad everywhere when N == 0)."""
    if tokens.numel() == 0:
        return torch.full((n_frames,), pad, dtype=torch.long, device=tokens.device)
    idx = torch.clamp(torch.arange(n_frames, device=tokens.device) // ratio, max=tokens.numel() - 1)
    return tokens.long()[idx]


def aligned_crop(
    mel: torch.Tensor, tokens: torch.Tensor, max_frames: int, ratio: int, generator=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random window of at most max_frames frames of mel [T, C] starting on a token boundary,
    with the tokens that cover it. max_frames <= 0 means no crop."""
    n = mel.shape[0]
    if max_frames <= 0 or n <= max_frames:
        return mel, tokens
    max_frames -= max_frames % ratio
    n_starts = (n - max_frames) // ratio + 1
    start_tok = int(torch.randint(n_starts, (1,), generator=generator))
    start = start_tok * ratio
    return mel[start : start + max_frames], tokens[start_tok : start_tok + max_frames // ratio]


def prefix_prompt(n: int, share_min: float, share_max: float, ratio: int, generator=None) -> torch.Tensor:
    """CosyVoice style: bool [n], True on a prefix of U(share_min, share_max) x n frames, rounded down
    to whole tokens (so the prompt/target border falls on a token boundary)."""
    share = share_min + (share_max - share_min) * float(torch.rand((), generator=generator))
    p = int(share * n) // ratio * ratio
    prompt = torch.zeros(n, dtype=torch.bool)
    prompt[:p] = True
    return prompt


def span_prompt(n: int, mask_min: float, mask_max: float, generator=None) -> torch.Tensor:
    """Voicebox style: a contiguous span of U(mask_min, mask_max) x n frames is masked (to be
    generated), the rest — possibly on both sides — is the prompt. At least one frame is masked."""
    share = mask_min + (mask_max - mask_min) * float(torch.rand((), generator=generator))
    m = max(1, min(n, round(share * n)))
    start = int(torch.randint(n - m + 1, (1,), generator=generator))
    prompt = torch.ones(n, dtype=torch.bool)
    prompt[start : start + m] = False
    return prompt


@dataclass
class Region:
    """One item's sequence before padding: mel [L, C] (None at inference: unknown), ids [L], the
    prompt mask [L], where the target begins, frame-rate phone ids [L] and F0 [L] (Hz) if known."""

    ids: torch.Tensor
    prompt: torch.Tensor
    target_start: int
    mel: torch.Tensor | None = None
    phones: torch.Tensor | None = None
    f0: torch.Tensor | None = None


@dataclass
class Packed:
    mel: torch.Tensor  # [B, L, C] normalised ground truth (zeros where unknown or padded)
    ids: torch.Tensor  # [B, L] frame-rate token ids
    prompt: torch.Tensor  # [B, L] bool, frames given as condition
    mask: torch.Tensor  # [B, L] bool, real (non-padding) frames
    target_start: torch.Tensor  # [B]
    lengths: torch.Tensor  # [B]
    phones: torch.Tensor | None = None  # [B, L] frame-rate phone ids (a decoder with phone_vocab)
    f0: torch.Tensor | None = None  # [B, L] Hz, UNKNOWN_F0 where not known (a decoder with pitch_cond)

    @property
    def cond_mel(self) -> torch.Tensor:
        return self.mel * self.prompt[..., None]

    @property
    def loss_mask(self) -> torch.Tensor:
        return self.mask & ~self.prompt


def pack(regions: list[Region], n_mels: int, pad: int, null_phone: int | None = None) -> Packed:
    """Pad the regions into one batch on the device of their tensors. With `null_phone` (a decoder told the
    phones) the batch carries phone ids, `null_phone` wherever a region has none. When any region has F0, the
    batch carries F0, unknown wherever a region has none."""
    device = regions[0].ids.device
    lengths = torch.tensor([r.ids.numel() for r in regions], dtype=torch.long, device=device)
    b, length = len(regions), int(lengths.max())
    mel = torch.zeros(b, length, n_mels, device=device)
    ids = torch.full((b, length), pad, dtype=torch.long, device=device)
    prompt = torch.zeros(b, length, dtype=torch.bool, device=device)
    phones = None if null_phone is None else torch.full((b, length), null_phone, dtype=torch.long, device=device)
    f0 = torch.full((b, length), UNKNOWN_F0, device=device) if any(r.f0 is not None for r in regions) else None
    for i, r in enumerate(regions):
        n = r.ids.numel()
        ids[i, :n] = r.ids
        prompt[i, :n] = r.prompt
        if r.mel is not None:
            mel[i, :n] = r.mel
        if phones is not None and r.phones is not None:
            phones[i, :n] = r.phones
        if f0 is not None and r.f0 is not None:
            f0[i, :n] = r.f0
    mask = torch.arange(length, device=device)[None] < lengths[:, None]
    starts = torch.tensor([r.target_start for r in regions], dtype=torch.long, device=device)
    return Packed(mel, ids, prompt, mask, starts, lengths, phones, f0)
