"""S3-style supervised speech tokenizer: log-mel -> conv subsampling -> transformer -> FSQ -> transformer
-> CTC over phones, plus a per-token style head on the quantised codes.

Why the style head: CTC rewards exactly what is *invariant* to style (the phones), so nothing in it asks the
bottleneck to keep phonation; a whispered and a voiced /a/ may share a code. The LM writes whispered speech
as tokens and the flow decoder voices tokens alone, so every token must say which style it is in. A small
MLP on each quantised code, trained to predict the utterance's style, puts that into the code itself.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from deepasmr.tokenizer.config import TokenizerModelConfig
from deepasmr.tokenizer.fsq import FSQ

STYLES = ("normal", "asmr")


def sinusoids(length: int, dim: int, device=None) -> torch.Tensor:
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10_000.0) / dim))
    out = torch.zeros(length, dim, device=device)
    out[:, 0::2], out[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return out


def _encoder(cfg: TokenizerModelConfig, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, cfg.d_model * cfg.ff_mult, cfg.dropout,
                                       activation="gelu", batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(cfg.d_model), enable_nested_tensor=False)


class SpeechTokenizer(nn.Module):
    def __init__(self, cfg: TokenizerModelConfig, n_mels: int, vocab_size: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("mel_mean", torch.zeros(n_mels, 1))  # set from training data, saved with weights
        self.register_buffer("mel_std", torch.ones(n_mels, 1))
        convs, width = [], n_mels
        for stride in cfg.subsample_strides:
            convs += [nn.Conv1d(width, cfg.d_model, cfg.conv_kernel, stride, cfg.conv_kernel // 2), nn.GELU()]
            width = cfg.d_model
        self.subsample = nn.Sequential(*convs)
        self.pre = _encoder(cfg, cfg.pre_layers)
        self.fsq = FSQ(cfg.fsq_levels)
        self.to_code = nn.Linear(cfg.d_model, self.fsq.dim)
        self.from_code = nn.Linear(self.fsq.dim, cfg.d_model)
        self.post = _encoder(cfg, cfg.post_layers)
        self.ctc_head = nn.Linear(cfg.d_model, vocab_size)
        self.inter_ctc_head = nn.Linear(cfg.d_model, vocab_size) if cfg.inter_ctc_weight > 0 else None
        self.style_head = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_model), nn.GELU(), nn.Linear(cfg.d_model, 2))
        self.dropout = nn.Dropout(cfg.dropout)

    # -- lengths ------------------------------------------------------------------------------------------
    def token_lengths(self, mel_lengths: torch.Tensor) -> torch.Tensor:
        n = mel_lengths
        pad, k = self.cfg.conv_kernel // 2, self.cfg.conv_kernel
        for stride in self.cfg.subsample_strides:
            n = torch.div(n + 2 * pad - k, stride, rounding_mode="floor") + 1
        return n

    @property
    def downsample(self) -> int:
        return math.prod(self.cfg.subsample_strides)

    # -- pieces -------------------------------------------------------------------------------------------
    def _specaugment(self, mel: torch.Tensor) -> torch.Tensor:
        mel = mel.clone()
        b, f, t = mel.shape
        for _ in range(self.cfg.freq_masks):
            w = torch.randint(0, self.cfg.freq_mask_width + 1, (b,))
            s = (torch.rand(b) * (f - w)).long()
            idx = torch.arange(f)[None]
            mel.masked_fill_(((idx >= s[:, None]) & (idx < (s + w)[:, None]))[:, :, None], 0.0)
        for _ in range(self.cfg.time_masks):
            w = torch.randint(0, self.cfg.time_mask_width + 1, (b,))
            s = (torch.rand(b) * (t - w).clamp(min=0)).long()
            idx = torch.arange(t)[None]
            mel.masked_fill_(((idx >= s[:, None]) & (idx < (s + w)[:, None]))[:, None, :], 0.0)
        return mel

    def _pad_mask(self, lengths: torch.Tensor, t: int) -> torch.Tensor:
        return torch.arange(t, device=lengths.device)[None] >= lengths[:, None]  # True = padding

    def encode_hidden(self, mel: torch.Tensor, mel_lengths: torch.Tensor) -> dict:
        """(B, n_mels, T) log-mel -> pre-quantisation hidden, quantised values, codes, token lengths."""
        x = (mel - self.mel_mean) / self.mel_std
        if self.training:
            x = self._specaugment(x)
        lengths = self.token_lengths(mel_lengths)
        h = self.subsample(x).transpose(1, 2)
        pad = self._pad_mask(lengths, h.shape[1])
        h = self.dropout(h + sinusoids(h.shape[1], h.shape[2], h.device))
        h = self.pre(h, src_key_padding_mask=pad)
        z = self.to_code(h)
        q, codes = self.fsq(z)
        return {"hidden": h, "pre_code": z, "quantised": q, "codes": codes, "lengths": lengths, "pad": pad}

    def decode_codes(self, q: torch.Tensor, pad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantised values -> (CTC log-probs, code embeddings)."""
        e = self.from_code(q)
        h = self.dropout(e + sinusoids(e.shape[1], e.shape[2], e.device))
        h = self.post(h, src_key_padding_mask=pad)
        return F.log_softmax(self.ctc_head(h).float(), dim=-1), e

    # -- training -----------------------------------------------------------------------------------------
    def forward(self, batch: dict) -> dict:
        enc = self.encode_hidden(batch["mel"], batch["mel_lengths"])
        logp, emb = self.decode_codes(enc["quantised"], enc["pad"])
        ctc = F.ctc_loss(logp.transpose(0, 1), batch["phones"], enc["lengths"], batch["phone_lengths"],
                         blank=0, reduction="mean", zero_infinity=True)
        valid = ~enc["pad"]
        style_logits = self.style_head(emb)[valid]
        style_target = batch["style"][:, None].expand_as(valid)[valid]
        style_ce = F.cross_entropy(style_logits.float(), style_target)
        codes = enc["codes"][valid]
        counts = torch.bincount(codes, minlength=self.fsq.codebook_size).float()
        p = counts / counts.sum()
        perplexity = torch.exp(-(p[p > 0] * p[p > 0].log()).sum())
        loss = ctc + self.cfg.style_weight * style_ce
        out = {}
        if self.inter_ctc_head is not None:
            inter_logp = F.log_softmax(self.inter_ctc_head(enc["hidden"]).float(), dim=-1)
            inter = F.ctc_loss(inter_logp.transpose(0, 1), batch["phones"], enc["lengths"], batch["phone_lengths"],
                               blank=0, reduction="mean", zero_infinity=True)
            loss = loss + self.cfg.inter_ctc_weight * inter
            out["inter_ctc"] = inter.detach()
        if self.cfg.code_entropy_weight > 0:
            entropy = self.fsq.marginal_entropy(enc["pre_code"], valid)
            loss = loss + self.cfg.code_entropy_weight * (1 - entropy)
            out["code_entropy"] = entropy.detach()
        return {
            **out,
            "loss": loss,
            "ctc": ctc.detach(),
            "style_ce": style_ce.detach(),
            "style_acc": (style_logits.argmax(-1) == style_target).float().mean(),
            "code_perplexity": perplexity,
        }

    # -- inference ----------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, mel: torch.Tensor, mel_lengths: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Log-mel (n_mels, T) or (B, n_mels, T) -> list of 1-D int64 token tensors."""
        if mel.dim() == 2:
            mel = mel[None]
        if mel_lengths is None:
            mel_lengths = torch.full((mel.shape[0],), mel.shape[-1], dtype=torch.long, device=mel.device)
        enc = self.encode_hidden(mel, mel_lengths)
        return [c[:n] for c, n in zip(enc["codes"], enc["lengths"].tolist(), strict=True)]

    @torch.no_grad()
    def tokens_to_phone_logprobs(self, tokens: list[torch.Tensor]) -> list[torch.Tensor]:
        """The CTC head's (n_tokens, vocab) phone log-probabilities read from tokens alone, per utterance."""
        lengths = torch.tensor([len(t) for t in tokens])
        padded = nn.utils.rnn.pad_sequence([t.long() for t in tokens], batch_first=True)
        q = self.fsq.indices_to_codes(padded)
        logp, _ = self.decode_codes(q, self._pad_mask(lengths, padded.shape[1]))
        return [lp[:n] for lp, n in zip(logp, lengths.tolist(), strict=True)]

    def tokens_to_phone_ids(self, tokens: list[torch.Tensor]) -> list[list[int]]:
        """CTC greedy decoding of phone ids from tokens alone (blank and repeats collapsed)."""
        out = []
        for logp in self.tokens_to_phone_logprobs(tokens):
            ids = torch.unique_consecutive(logp.argmax(-1)).tolist()
            out.append([i for i in ids if i != 0])
        return out

    @torch.no_grad()
    def tokens_to_style(self, tokens: list[torch.Tensor]) -> list[float]:
        """Share of tokens the style head calls "asmr", per utterance."""
        out = []
        for t in tokens:
            emb = self.from_code(self.fsq.indices_to_codes(t.long()))
            out.append(float((self.style_head(emb).argmax(-1) == 1).float().mean()))
        return out
