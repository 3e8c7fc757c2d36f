"""The velocity network: a Voicebox-style transformer with U-Net skip connections.

Input per frame: [x_t | masked prompt mel | token features] projected to `dim`. Output: the
velocity dx/dt for every frame (the caller decides which frames count).

Time conditioning is adaptive layer norm, not Voicebox's prepended time token, because
(1) every layer sees t directly — the velocity field changes character along the path (near the
noise it predicts coarse structure, near the data fine detail), and a token must be fetched
through attention; (2) the sequence stays exactly the frame grid, so rotary positions, padding
masks and the [prompt | target] layout need no offset; (3) the global speaker embedding has a
natural slot: it is added to the same conditioning vector.
"""

from __future__ import annotations

import torch
from torch import nn

from deepasmr.flow.config import FlowConfig
from deepasmr.flow.layers import (
    AdaLNBlock,
    ConvPositionEmbedding,
    FinalLayer,
    TimeEmbedding,
    TokenEncoder,
    rotary_tables,
)
from deepasmr.flow.pitch import pitch_feature_dim, pitch_features


class VelocityTransformer(nn.Module):
    def __init__(self, cfg: FlowConfig):
        super().__init__()
        self.cfg = cfg
        n_mels = cfg.n_mels
        self.tokens = TokenEncoder(cfg.vocab_size, cfg.token_dim, cfg.token_conv_layers, cfg.token_conv_kernel,
                                   len(cfg.phone_vocab))
        self.in_proj = nn.Linear(2 * n_mels + cfg.token_dim, cfg.dim)
        # Added to the input from zero, so a decoder trained without F0 starts out unchanged (fine-tuning); no
        # bias, so unknown F0 (all-zero features) adds exactly nothing.
        self.pitch_proj = nn.Linear(pitch_feature_dim(n_mels), cfg.dim, bias=False) if cfg.pitch_cond else None
        if self.pitch_proj is not None:
            nn.init.zeros_(self.pitch_proj.weight)
        self.conv_pos = ConvPositionEmbedding(cfg.dim, cfg.conv_pos_kernel, cfg.conv_pos_groups)
        self.time = TimeEmbedding(cfg.time_freq_dim, cfg.cond_dim, cfg.time_scale)
        self.spk = nn.Linear(cfg.spk_emb_dim, cfg.cond_dim) if cfg.use_spk_emb else None
        self.blocks = nn.ModuleList(
            AdaLNBlock(cfg.dim, cfg.heads, cfg.ff_mult, cfg.cond_dim, cfg.dropout) for _ in range(cfg.depth)
        )
        # Second-half layer i receives the output of first-half layer depth-1-i, concatenated
        # with its own input and projected back (Voicebox): fine detail skips the deep middle.
        self.skip_proj = nn.ModuleList(nn.Linear(2 * cfg.dim, cfg.dim) for _ in range(cfg.depth // 2))
        self.final = FinalLayer(cfg.dim, cfg.cond_dim, n_mels)

    def forward(
        self,
        x_t: torch.Tensor,
        cond_mel: torch.Tensor,
        token_ids: torch.Tensor,
        t: torch.Tensor,
        mask: torch.Tensor,
        spk_emb: torch.Tensor | None = None,
        phone_ids: torch.Tensor | None = None,
        f0: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x_t, cond_mel: [B, L, n_mels] (normalised; cond zero outside the prompt); token_ids: [B, L]
        frame-rate ids; t: [B]; mask: [B, L] bool; spk_emb: [B, spk_emb_dim] or None (= zeros);
        phone_ids: [B, L] frame-rate phone ids or None (= unknown); f0: [B, L] Hz per frame (deepasmr.flow.pitch;
        a decoder with pitch_cond) or None (= unknown). Returns the velocity [B, L, n_mels]."""
        tok = self.tokens(token_ids, mask, phone_ids)
        x = self.in_proj(torch.cat([x_t, cond_mel, tok], dim=-1))
        if self.pitch_proj is not None and f0 is not None:  # unknown F0 gives zero features: nothing to add
            x = x + self.pitch_proj(pitch_features(f0, self.cfg.mel).to(x.dtype))
        x = self.conv_pos(x, mask)
        c = self.time(t)
        if self.spk is not None:
            if spk_emb is None:
                spk_emb = x.new_zeros(x.shape[0], self.cfg.spk_emb_dim)
            c = c + self.spk(spk_emb)
        rope = rotary_tables(x.shape[1], self.cfg.dim // self.cfg.heads, self.cfg.rope_base, x.device, x.dtype)
        # Padded keys are never attended to; an unpadded batch (synthesis) needs no mask, which is ~5 % faster.
        attn_mask = None if bool(mask.all()) else mask[:, None, None, :]
        half = self.cfg.depth // 2
        skips = []
        for i, block in enumerate(self.blocks):
            if i >= half:
                x = self.skip_proj[i - half](torch.cat([x, skips.pop()], dim=-1))
            x = block(x, c, rope, attn_mask)
            if i < half:
                skips.append(x)
        return self.final(x, c) * mask[..., None]
