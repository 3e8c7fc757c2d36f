"""KV-cached decoding through the LM's Qwen2 backbone on preallocated key/value buffers.

Why not transformers' own cached forward: at the tiny preset's width one decoding step costs per-op overhead,
not arithmetic, and transformers' generic layer adds much of it (a cache grown by concatenation every layer
and step, mask builders, keyword plumbing). This runs the same modules (the backbone's own projections,
norms and rotary table) in the plain order of Qwen2's layer, writing keys and values into buffers sized
once per call to `generate`. Training and checkpoints stay transformers'; `generate(use_cache=False)`, the
plain transformers forward, is the reference this path is tested against.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import Qwen2Model
from transformers.models.qwen2.modeling_qwen2 import apply_rotary_pos_emb


def supports(backbone: Qwen2Model) -> bool:
    """Whether this path reproduces the backbone: full attention in every layer (no sliding windows)."""
    return all(kind == "full_attention" for kind in getattr(backbone.config, "layer_types", []))


class CachedBackbone:
    """The backbone over `batch` rows of at most `capacity` positions, fed a few positions at a time."""

    def __init__(self, backbone: Qwen2Model, batch: int, capacity: int):
        cfg = backbone.config
        self.backbone = backbone
        self.heads, self.kv_heads = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        weight = backbone.norm.weight
        shape = (len(backbone.layers), batch, self.kv_heads, capacity, self.head_dim)
        self.keys = weight.new_zeros(shape)
        self.values = weight.new_zeros(shape)
        self.length = 0

    def select(self, rows: torch.Tensor) -> None:
        """Regroup the cached rows: row i becomes old row rows[i] (copies of one prefix, or finished rows
        dropped)."""
        self.keys = self.keys[:, rows]
        self.values = self.values[:, rows]

    def _mask(self, key_mask: torch.Tensor, n_new: int) -> tuple[torch.Tensor | None, bool]:
        """(boolean attention mask or None, is_causal) for `n_new` queries over the first `key_mask.shape[1]`
        positions; key_mask [B, length + n_new] is nonzero on real (unpadded) positions."""
        key_mask = key_mask.bool()
        padded = not bool(key_mask.all())
        if n_new == 1:
            return (key_mask[:, None, None, :] if padded else None), False
        if not padded and self.length == 0:
            return None, True
        end = key_mask.shape[1]
        query_at = torch.arange(self.length, end, device=key_mask.device)[:, None]
        key_at = torch.arange(end, device=key_mask.device)[None]
        allowed = (key_at <= query_at)[None] & key_mask[:, None, :]
        # A padded query sees itself, so that no row is all masked (which would make NaNs in its values).
        allowed |= key_at == query_at
        return allowed[:, None], False

    def __call__(self, embeds: torch.Tensor, positions: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """embeds [B, n, H] at position ids [B, n], appended after what is cached; key_mask [B, cached + n].
        Returns the final-norm hidden states [B, n, H]."""
        b, n, _ = embeds.shape
        start, end = self.length, self.length + n
        if end > self.keys.shape[3]:
            raise ValueError(f"KV cache holds {self.keys.shape[3]} positions, asked for {end}")
        cos, sin = self.backbone.rotary_emb(embeds, positions)
        mask, causal = self._mask(key_mask, n)
        x = embeds
        for i, layer in enumerate(self.backbone.layers):
            attn = layer.self_attn
            h = layer.input_layernorm(x)
            q = attn.q_proj(h).view(b, n, self.heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(h).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            self.keys[i, :, :, start:end] = k
            self.values[i, :, :, start:end] = attn.v_proj(h).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, self.keys[i, :, :, :end], self.values[i, :, :, :end],
                                               attn_mask=mask, is_causal=causal, enable_gqa=True)
            x = x + attn.o_proj(y.transpose(1, 2).reshape(b, n, -1))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        self.length = end
        return self.backbone.norm(x)

