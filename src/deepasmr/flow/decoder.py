"""The flow-matching decoder: speech tokens + a speaker prompt's mel -> log-mel in that voice.

Training (`forward(batch) -> loss`) is conditional flow matching on the optimal-transport path
    x_t = (1 - (1 - sigma_min) t) x_0 + t x_1,   target velocity  u = x_1 - (1 - sigma_min) x_0,
with x_0 ~ N(0, I) and x_1 the normalised mel; the MSE counts only frames to be generated (not the
prompt, not padding). Inference (`generate`) integrates the learned velocity with Euler steps.
The [prompt | target] frame layout both use is documented in `deepasmr.flow.layout`.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import nn

from deepasmr.flow.config import FLOW_PRESETS, FlowConfig
from deepasmr.flow.layout import (
    Packed,
    Region,
    aligned_crop,
    frame_token_ids,
    pack,
    prefix_prompt,
    span_prompt,
)
from deepasmr.flow.pitch import UNKNOWN_F0
from deepasmr.flow.sampling import euler_solve
from deepasmr.flow.transformer import VelocityTransformer


@contextmanager
def _eval_mode(module: nn.Module):
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def _coin(p: float) -> bool:
    return p > 0 and float(torch.rand(())) < p


class FlowDecoder(nn.Module):
    def __init__(self, cfg: FlowConfig | None = None):
        super().__init__()
        self.cfg = cfg or FLOW_PRESETS["tiny"]
        self.net = VelocityTransformer(self.cfg)

    # --- features ------------------------------------------------------------------------------
    def normalize(self, mel: torch.Tensor) -> torch.Tensor:
        return (mel - self.cfg.mel_mean) / self.cfg.mel_std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.cfg.mel_std + self.cfg.mel_mean

    def _spk(self, spk_emb: torch.Tensor | None) -> torch.Tensor | None:
        return spk_emb.float() if (self.cfg.use_spk_emb and spk_emb is not None) else None

    # --- training ------------------------------------------------------------------------------
    def training_layout(self, batch: dict) -> tuple[Packed, torch.Tensor]:
        """Cut each example into [prompt | target] (see layout.py) and pad the batch. Also returns
        which examples took the separate prompt utterance as prefix (bool [B])."""
        cfg, r, pad, null = self.cfg, self.cfg.token_ratio, self.cfg.pad_token, self.cfg.null_phone
        mel, mel_lens = batch["mel"], batch["mel_lens"]
        tokens, token_lens = batch["tokens"], batch["token_lens"]
        phones = batch.get("phones") if cfg.phone_vocab else None
        f0 = batch.get("f0") if cfg.pitch_cond else None
        prompt_mel = batch.get("prompt_mel")
        prompt_tokens = batch.get("prompt_tokens")
        regions, separate = [], torch.zeros(mel.shape[0], dtype=torch.bool)
        for i in range(mel.shape[0]):
            body = self.normalize(mel[i, :, : int(mel_lens[i])].T.float())
            if f0 is not None:  # crop F0 with its frames, as one more mel column
                body = torch.cat([body, f0[i, : body.shape[0], None].to(body)], 1)
            tok = tokens[i, : int(token_lens[i])]
            if phones is None:
                body, tok = aligned_crop(body, tok, cfg.max_train_frames, r)
                ph = None
            else:  # crop tokens and their phones together
                body, both = aligned_crop(body, torch.stack([tok, phones[i, : len(tok)]], 1), cfg.max_train_frames, r)
                tok, ph = both.unbind(1)
                ph = None if _coin(cfg.phone_drop_prob) else frame_token_ids(ph, body.shape[0], r, null)
            pitch = None
            if f0 is not None:
                body, pitch = body[:, :-1], body[:, -1]
                pitch = None if _coin(cfg.pitch_drop_prob) else pitch
            ids = frame_token_ids(tok, body.shape[0], r, pad)
            n_prompt = 0 if prompt_mel is None else int(batch["prompt_mel_lens"][i])
            if n_prompt > 0 and _coin(cfg.separate_prompt_prob):
                separate[i] = True
                p_mel = self.normalize(prompt_mel[i, :, :n_prompt].T.float())
                p_tok = (
                    prompt_tokens[i, : int(batch["prompt_token_lens"][i])]
                    if prompt_tokens is not None
                    else tokens.new_zeros(0)
                )
                p_mel, p_tok = aligned_crop(p_mel, p_tok, cfg.max_prompt_frames, r)
                n_p = p_mel.shape[0]
                body = torch.cat([p_mel, body])
                ids = torch.cat([frame_token_ids(p_tok, n_p, r, pad), ids])
                ph = None if ph is None else torch.cat([ph.new_full((n_p,), null), ph])
                pitch = None if pitch is None else torch.cat([pitch.new_full((n_p,), UNKNOWN_F0), pitch])
                prompt = torch.arange(body.shape[0]) < n_p
            elif cfg.prompt_mode == "prefix":
                prompt = prefix_prompt(body.shape[0], cfg.prompt_min, cfg.prompt_max, r)
            else:
                prompt = span_prompt(body.shape[0], cfg.mask_min, cfg.mask_max)
            if _coin(cfg.prompt_token_drop_prob):
                ids = torch.where(prompt.to(ids.device), torch.full_like(ids, pad), ids)
            if ph is not None:  # as at inference: the prompt's phones are not known
                ph = torch.where(prompt.to(ph.device), torch.full_like(ph, null), ph)
            if pitch is not None:  # nor its F0
                pitch = torch.where(prompt.to(pitch.device), torch.full_like(pitch, UNKNOWN_F0), pitch)
            start = int((~prompt).nonzero()[0]) if (~prompt).any() else body.shape[0]
            regions.append(Region(ids=ids, prompt=prompt, target_start=start, mel=body, phones=ph, f0=pitch))
        return pack(regions, cfg.n_mels, pad, null if cfg.phone_vocab else None), separate

    def flow_loss(self, packed: Packed, spk_emb: torch.Tensor | None = None) -> torch.Tensor:
        cfg = self.cfg
        x1 = packed.mel
        b, device = x1.shape[0], x1.device
        x0 = torch.randn_like(x1)
        t = torch.rand(b, device=device)
        tt = t[:, None, None]
        x_t = (1 - (1 - cfg.sigma_min) * tt) * x0 + tt * x1
        target = x1 - (1 - cfg.sigma_min) * x0
        cond, ids, spk, phones, f0 = packed.cond_mel, packed.ids, self._spk(spk_emb), packed.phones, packed.f0
        # CFG dropout: the whole condition at once, so that the null branch at inference is one
        # well-defined input (no prompt, no tokens, no speaker, no phones, no F0), as in CosyVoice.
        drop = torch.rand(b, device=device) < cfg.cfg_drop_prob
        if drop.any():
            cond = cond * ~drop[:, None, None]
            ids = torch.where(drop[:, None], torch.full_like(ids, cfg.pad_token), ids)
            spk = None if spk is None else spk * ~drop[:, None]
            phones = None if phones is None else torch.where(drop[:, None], torch.full_like(phones, cfg.null_phone),
                                                             phones)
            f0 = None if f0 is None else torch.where(drop[:, None], torch.full_like(f0, UNKNOWN_F0), f0)
        v = self.net(x_t, cond, ids, t, packed.mask, spk, phone_ids=phones, f0=f0)
        m = packed.loss_mask[..., None].float()
        return ((v - target) ** 2 * m).sum() / (m.sum() * cfg.n_mels).clamp(min=1.0)

    def forward(self, batch: dict) -> torch.Tensor:
        """batch: mel [B, n_mels, T] (log-mel), mel_lens [B], tokens [B, N], token_lens [B];
        optional phones [B, N] (each token's phone, ids into cfg.phone_vocab); optional f0 [B, T] (Hz per mel
        frame, 0 unvoiced, < 0 unknown; read by a decoder with pitch_cond); optional spk_emb [B, 256];
        optional prompt_mel [B, n_mels, P], prompt_mel_lens [B],
        prompt_tokens [B, M], prompt_token_lens [B], prompt_spk_emb [B, 256] (the separate prompt
        utterance, used with probability separate_prompt_prob)."""
        packed, separate = self.training_layout(batch)
        spk = batch.get("spk_emb")
        if spk is not None and "prompt_spk_emb" in batch and separate.any():
            # The speaker embedding describes the prompt, as at inference (the user's clip), not the
            # target: in the cross-style variant the two differ in style, and the style must come
            # from the tokens alone.
            spk = torch.where(separate[:, None].to(spk.device), batch["prompt_spk_emb"], spk)
        return self.flow_loss(packed, spk)

    # --- inference -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        tokens: torch.Tensor,
        prompt_mel: torch.Tensor,
        prompt_tokens: torch.Tensor | None = None,
        spk_emb: torch.Tensor | None = None,
        steps: int | None = None,
        cfg_strength: float | None = None,
        seed: int | None = None,
        *,
        noise_scale: float | None = None,
        token_lens: torch.Tensor | None = None,
        prompt_lens: torch.Tensor | None = None,
        prompt_token_lens: torch.Tensor | None = None,
        batched_cfg: bool = True,
        precision: str = "fp32",
        phones: torch.Tensor | None = None,
        cfg_until: float | None = None,
        phone_cfg_strength: float | None = None,
        f0: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """tokens [N] or [B, N]; prompt_mel [n_mels, P] or [B, n_mels, P] (log-mel, may have P = 0);
        prompt_tokens (optional) [M] or [B, M] — the prompt's own tokens; without them the prompt
        frames carry the pad id, a case training covers via prompt_token_drop_prob.
        Ragged batches pass *_lens. Returns log-mel [n_mels, T] or [B, n_mels, T_max] with
        T = len(tokens) x token_ratio (padded items filled with the log floor); the prompt is cut off.
        steps / cfg_strength / cfg_until / noise_scale / phone_cfg_strength default to the config; seed makes the
        noise reproducible.
        precision: "fp32", "bf16" or "auto" (deepasmr.precision) for the velocity network.
        phones: [N] or [B, N], each token's phone (ids into cfg.phone_vocab, cfg.null_phone = unknown); only
        for a decoder trained with phones.
        f0: [T] or [B, T] Hz per output frame (T = len(tokens) x token_ratio; 0 unvoiced, < 0 unknown); only for a
        decoder trained with F0 (FlowConfig.pitch_cond)."""
        cfg, r, pad, null = self.cfg, self.cfg.token_ratio, self.cfg.pad_token, self.cfg.null_phone
        if phones is not None and not cfg.phone_vocab:
            raise ValueError("this flow decoder was trained without phones (FlowConfig.phone_vocab is empty)")
        if phones is not None and phones.shape != tokens.shape:
            raise ValueError(f"phones {tuple(phones.shape)} must match tokens {tuple(tokens.shape)}")
        if f0 is not None and not cfg.pitch_cond:
            raise ValueError("this flow decoder was trained without F0 (FlowConfig.pitch_cond is off)")
        if f0 is not None and f0.shape[-1] != tokens.shape[-1] * r:
            raise ValueError(f"f0 has {f0.shape[-1]} frames; {tokens.shape[-1]} tokens need {tokens.shape[-1] * r}")
        unbatched = tokens.dim() == 1
        if unbatched:
            tokens, prompt_mel = tokens[None], prompt_mel[None]
            f0 = None if f0 is None else f0[None]
            phones = None if phones is None else phones[None]
            prompt_tokens = None if prompt_tokens is None else prompt_tokens[None]
            spk_emb = None if spk_emb is None else spk_emb.reshape(1, -1)
        b, device = tokens.shape[0], tokens.device

        def full(lens, n):
            return torch.full((b,), n, dtype=torch.long) if lens is None else lens

        token_lens, prompt_lens = full(token_lens, tokens.shape[1]), full(prompt_lens, prompt_mel.shape[-1])
        if prompt_tokens is not None:
            prompt_token_lens = full(prompt_token_lens, prompt_tokens.shape[1])

        regions = []
        for i in range(b):
            n_p, n_t = int(prompt_lens[i]), int(token_lens[i]) * r
            p_tok = tokens.new_zeros(0) if prompt_tokens is None else prompt_tokens[i, : int(prompt_token_lens[i])]
            ids = torch.cat(
                [frame_token_ids(p_tok, n_p, r, pad), frame_token_ids(tokens[i, : int(token_lens[i])], n_t, r, pad)]
            )
            ph = None if phones is None else torch.cat(
                [ids.new_full((n_p,), null), frame_token_ids(phones[i, : int(token_lens[i])], n_t, r, null)]
            )
            prompt = torch.arange(n_p + n_t, device=device) < n_p
            mel = torch.zeros(n_p + n_t, cfg.n_mels, device=device)
            mel[:n_p] = self.normalize(prompt_mel[i, :, :n_p].T.float())
            pitch = None if f0 is None else torch.cat([f0.new_full((n_p,), UNKNOWN_F0), f0[i, :n_t].float()])
            regions.append(Region(ids=ids, prompt=prompt, target_start=n_p, mel=mel, phones=ph, f0=pitch))
        packed = pack(regions, cfg.n_mels, pad, null if phones is not None else None)

        # Noise is drawn item by item over each item's own length, so an item's output does not
        # depend on how much padding its batch needs (the first item of any batch reproduces alone).
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        scale = cfg.noise_scale if noise_scale is None else noise_scale
        if not scale > 0:
            raise ValueError(f"noise_scale must be positive, got {scale}")
        x0 = torch.zeros_like(packed.mel)
        for i, n in enumerate(packed.lengths.tolist()):
            x0[i, :n] = scale * torch.randn(n, cfg.n_mels, generator=gen).to(device)
        null_ids = torch.full_like(packed.ids, pad)
        with _eval_mode(self):
            x1 = euler_solve(
                self.net,
                x0,
                packed.cond_mel,
                packed.ids,
                null_ids,
                packed.mask,
                self._spk(spk_emb),
                cfg.steps if steps is None else steps,
                cfg.cfg_strength if cfg_strength is None else cfg_strength,
                cfg.sway_coef,
                batched_cfg,
                precision,
                None if packed.phones is None else (packed.phones, torch.full_like(packed.phones, null)),
                cfg.cfg_until if cfg_until is None else cfg_until,
                cfg.phone_cfg_strength if phone_cfg_strength is None else phone_cfg_strength,
                packed.f0,
            )
        out_len = int(token_lens.max()) * r
        out = torch.full((b, cfg.n_mels, out_len), math.log(cfg.mel.log_floor), device=device)
        for i in range(b):
            start, n_t = int(packed.target_start[i]), int(token_lens[i]) * r
            out[i, :, :n_t] = self.denormalize(x1[i, start : start + n_t]).T
        return out[0] if unbatched else out

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
