"""KV-cached decoding through the LM's Qwen2 backbone on preallocated key/value buffers.

Why not transformers' own cached forward: at the tiny preset's width one decoding step costs per-op overhead,
not arithmetic, and transformers' generic layer adds much of it (a cache grown by concatenation every layer
and step, mask builders, keyword plumbing). This runs the same modules (the backbone's own projections,
norms and rotary table) in the plain order of Qwen2's layer, writing keys and values into buffers sized
once per call to `generate`. Training and checkpoints stay transformers'; `generate(use_cache=False)`, the
plain transformers forward, is the reference this path is tested against.

Each layer's projections are joined into two matrices (query/key/value, gate/up) so a step makes 4 matrix
products per layer instead of 7, and may be held in bfloat16 (`matmul_dtype`). Why bfloat16 for the products
only: a step of 8 rows reads every weight once, so it is bound by memory traffic, which bfloat16 halves (on a
CPU with AVX-512 BF16: 5.7 -> 3.9 ms per 8-row step of the shipped tiny LM); attention over the cache stays
in the stream's dtype, because there one query against a bfloat16 cache measured 3.6x slower than in fp32; and
the residual stream, norms and cache stay fp32 so that rounding does not build up over the sequence.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import Qwen2Model
from transformers.models.qwen2.modeling_qwen2 import Qwen2DecoderLayer, apply_rotary_pos_emb


def supports(backbone: Qwen2Model) -> bool:
    """Whether this path reproduces the backbone: full attention in every layer (no sliding windows)."""
    return all(kind == "full_attention" for kind in getattr(backbone.config, "layer_types", []))


def _rms_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Qwen2's RMSNorm module through torch's fused op: the same numbers (normalised in fp32, then scaled in the
    stream's dtype, as Qwen2 does) in three calls instead of six."""
    return F.rms_norm(x.float(), norm.weight.shape, eps=norm.variance_epsilon).to(x.dtype) * norm.weight


class _JoinedLayer:
    """One layer's projections joined for decoding, in `dtype`: [q; k; v] and [gate; up] as single matrices."""

    def __init__(self, layer: Qwen2DecoderLayer, dtype: torch.dtype):
        attn, mlp = layer.self_attn, layer.mlp
        qkv = (attn.q_proj, attn.k_proj, attn.v_proj)
        self.qkv = torch.cat([p.weight for p in qkv]).to(dtype)
        has_bias = all(p.bias is not None for p in qkv)  # Qwen2's are biased; keep general for other configs
        self.qkv_bias = torch.cat([p.bias for p in qkv]).to(dtype) if has_bias else None
        self.out = attn.o_proj.weight.to(dtype)
        self.gate_up = torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]).to(dtype)
        self.down = mlp.down_proj.weight.to(dtype)
        self.act = mlp.act_fn
        self.dtype = dtype

    def linear(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return F.linear(x.to(self.dtype), weight, bias).to(x.dtype)


class CachedBackbone:
    """The backbone over `batch` rows of at most `capacity` positions, fed a few positions at a time; its
    matrix products in `matmul_dtype` (None: the backbone's own)."""

    def __init__(self, backbone: Qwen2Model, batch: int, capacity: int, matmul_dtype: torch.dtype | None = None):
        cfg = backbone.config
        self.backbone = backbone
        self.layers = [_JoinedLayer(layer, matmul_dtype or backbone.norm.weight.dtype) for layer in backbone.layers]
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
        q_end, k_end = self.heads * self.head_dim, (self.heads + self.kv_heads) * self.head_dim
        for i, (layer, joined) in enumerate(zip(self.backbone.layers, self.layers, strict=True)):
            qkv = joined.linear(_rms_norm(layer.input_layernorm, x), joined.qkv, joined.qkv_bias)
            q = qkv[..., :q_end].view(b, n, self.heads, self.head_dim).transpose(1, 2)
            k = qkv[..., q_end:k_end].view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            self.keys[i, :, :, start:end] = k
            self.values[i, :, :, start:end] = qkv[..., k_end:].view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, self.keys[i, :, :, :end], self.values[i, :, :, :end],
                                               attn_mask=mask, is_causal=causal, enable_gqa=True)
            x = x + joined.linear(y.transpose(1, 2).reshape(b, n, -1), joined.out)
            gate, up = joined.linear(_rms_norm(layer.post_attention_layernorm, x), joined.gate_up).chunk(2, dim=-1)
            x = x + joined.linear(joined.act(gate) * up, joined.down)
        self.length = end
        return _rms_norm(self.backbone.norm, x)

