"""SpeechLM: a Qwen2 decoder fed `inputs_embeds`, with its own speech-token and special embeddings and a
speech head over the codebook + eos.

Text ids always go through the backbone's own `embed_tokens`: for `paper` these are Qwen2.5's pretrained BPE
embeddings (as in CosyVoice 2); for `tiny` the backbone's vocabulary *is* the phone vocabulary. Speech tokens
and the special tokens have separate tables, so no id space is shared between text and speech.

The batch is packed into sequences here (lm.layout), not in the collate function: the collate stays a plain
field-wise padder that eval and other tools can reuse, and training and `generate` build their prefixes with
the same code, so the layout cannot drift between them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn
from transformers import Qwen2Config, Qwen2Model

from deepasmr.errors import ModelFilesError
from deepasmr.lm.config import IGNORE_INDEX, NUM_SPECIAL, LMConfig
from deepasmr.lm.guided import guided_attention_loss, row_spans
from deepasmr.lm.layout import KIND_SPECIAL, KIND_SPEECH, KIND_TEXT, pad_rows, rows_from_batch
from deepasmr.lm.pointer import TextPointer, advance_loss, with_end


@contextmanager
def eager_attention(backbone: Qwen2Model):
    """Fused attention kernels return no weights; the plain implementation (given a full mask) does."""
    cfg = backbone.config
    before, cfg._attn_implementation = cfg._attn_implementation, "eager"
    try:
        yield
    finally:
        cfg._attn_implementation = before


def tiny_backbone_config(cfg: LMConfig) -> Qwen2Config:
    if cfg.text_vocab_size <= 0:
        raise ValueError("text_vocab_size is 0: give the config its phone vocabulary (LMConfig.with_phones)")
    return Qwen2Config(
        vocab_size=cfg.text_vocab_size,
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=cfg.max_positions,
        rope_parameters={"rope_type": "default", "rope_theta": cfg.rope_theta},
        rms_norm_eps=cfg.rms_norm_eps,
        attention_dropout=cfg.attention_dropout,
        initializer_range=cfg.init_std,
        tie_word_embeddings=False,
    )


def load_pretrained_backbone(local_dir: str | None) -> Qwen2Model:
    """A local Qwen2 folder (e.g. Qwen2.5-0.5B) as a bare decoder, in float32; never touches the hub."""
    if not local_dir:
        raise ModelFilesError("the paper LM preset needs pretrained_dir: a local Qwen2.5-0.5B folder")
    try:
        return Qwen2Model.from_pretrained(local_dir, local_files_only=True, dtype=torch.float32)
    except OSError as err:
        raise ModelFilesError(f"cannot load a Qwen2 model from {local_dir}: {err}") from err


class SpeechLM(nn.Module):
    def __init__(self, cfg: LMConfig, backbone: Qwen2Model):
        super().__init__()
        self.cfg = cfg
        self.backbone = backbone
        hidden = backbone.config.hidden_size
        self.speech_embed = nn.Embedding(cfg.speech_vocab_size, hidden)
        self.special_embed = nn.Embedding(NUM_SPECIAL, hidden)
        self.speech_head = nn.Linear(hidden, cfg.head_size)
        for table in (self.speech_embed, self.special_embed, self.speech_head):
            nn.init.normal_(table.weight, std=cfg.init_std)
        nn.init.zeros_(self.speech_head.bias)
        self.phone_head: nn.Linear | None = None
        self.add_phone_head()
        self.pointer: TextPointer | None = None
        if cfg.text_pointer:
            self.add_pointer()

    def add_pointer(self) -> None:
        """Give this LM a text pointer (lm.pointer), e.g. when fine-tuning a model trained without one."""
        if self.cfg.text_unit != "phone":
            raise ValueError("text_pointer needs phone text units (text_unit: phone)")
        self.cfg = replace(self.cfg, text_pointer=True)
        if self.pointer is None:
            hidden = self.speech_embed.embedding_dim
            self.pointer = TextPointer(hidden, self.cfg.text_vocab_size).to(self.speech_embed.weight.device)

    def add_phone_head(self) -> None:
        """The auxiliary phone head (training only; see lm.phone_targets) when cfg.phone_aux_weight asks for it:
        per target position, logits of the phone its next token speaks and of the phone after that one."""
        if self.cfg.phone_aux_weight <= 0 or self.phone_head is not None:
            return
        if self.cfg.text_unit != "phone":
            raise ValueError("phone_aux_weight needs phone text units (text_unit: phone)")
        hidden = self.speech_embed.embedding_dim
        self.phone_head = nn.Linear(hidden, 2 * self.cfg.text_vocab_size).to(self.speech_embed.weight.device)
        nn.init.normal_(self.phone_head.weight, std=self.cfg.init_std)
        nn.init.zeros_(self.phone_head.bias)

    @classmethod
    def from_config(cls, cfg: LMConfig) -> SpeechLM:
        """Fresh model. `paper` loads pretrained weights from `cfg.pretrained_dir`; a config that carries a
        saved `backbone` dict rebuilds that shape with random weights (for loading a state dict next)."""
        if cfg.backbone is not None:
            backbone = Qwen2Model(Qwen2Config.from_dict(cfg.backbone))
        elif cfg.preset == "paper":
            backbone = load_pretrained_backbone(cfg.pretrained_dir)
        else:
            backbone = Qwen2Model(tiny_backbone_config(cfg))
        cfg = replace(cfg, backbone=backbone.config.to_dict(), text_vocab_size=backbone.config.vocab_size)
        return cls(cfg, backbone)

    @property
    def text_embed(self) -> nn.Embedding:
        return self.backbone.embed_tokens

    def embed(self, ids: torch.Tensor, kinds: torch.Tensor) -> torch.Tensor:
        """(B, L) ids + kinds -> (B, L, H); each kind looks up its own table, padding stays zero."""
        tables = {KIND_TEXT: self.text_embed, KIND_SPEECH: self.speech_embed, KIND_SPECIAL: self.special_embed}
        first = int(kinds.view(-1)[0])
        if first in tables and bool((kinds == first).all()):  # a decoding step: one plain lookup
            return tables[first](ids)
        out = self.speech_embed.weight.new_zeros(*ids.shape, self.speech_embed.embedding_dim)
        for kind, table in tables.items():
            where = kinds == kind
            if where.any():
                out[where] = table(ids[where])
        return out

    def run(self, embeds, attention_mask, position_ids, cache=None, attentions: bool = False):
        """Backbone pass; returns (hidden states, cache), plus the per-layer attention weights when asked."""
        if bool(attention_mask.all()) and not attentions:
            # No padding: attention takes its plain causal path instead of building a mask every step.
            attention_mask = None
        out = self.backbone(
            inputs_embeds=embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            use_cache=cache is not None,
            output_attentions=attentions,
        )
        if attentions:
            return out.last_hidden_state, out.cache, out.attentions
        return out.last_hidden_state, out.cache

    def _guided(self) -> bool:
        return self.training and self.cfg.guided_attention_weight > 0

    def _noisy_speech_inputs(self, ids: torch.Tensor, kinds: torch.Tensor) -> torch.Tensor:
        """`ids` with a share cfg.speech_input_noise of the speech positions set to random codes (labels are
        packed separately, so the targets stay clean)."""
        share = self.cfg.speech_input_noise
        if share <= 0:
            return ids
        hit = (kinds == KIND_SPEECH) & (torch.rand(ids.shape, device=ids.device) < share)
        return torch.where(hit, torch.randint_like(ids, self.cfg.speech_vocab_size), ids)

    def _hidden_and_labels(self, batch: dict):
        """Backbone over the packed batch -> (hidden (B, L, H), attention weights or None, labels (B, L))."""
        device = self.speech_embed.weight.device
        packed = {k: v.to(device) for k, v in pad_rows(rows_from_batch(batch, self.cfg.eos_label), "right").items()}
        ids = self._noisy_speech_inputs(packed["ids"], packed["kinds"]) if self.training else packed["ids"]
        embeds = self.embed(ids, packed["kinds"])
        if self.pointer is not None:
            embeds = embeds + self._pointer_embeds(embeds, batch)
        args = (embeds, packed["attention_mask"], packed["position_ids"])
        if self._guided():
            with eager_attention(self.backbone):
                hidden, _, attentions = self.run(*args, attentions=True)
            return hidden, attentions, packed["labels"]
        return self.run(*args)[0], None, packed["labels"]

    @staticmethod
    def _aligned_rows(batch: dict):
        """Per row: (row spans, phone ids of T-text, the text phone each target token speaks)."""
        if "phone_pos" not in batch:
            raise ValueError("this LM needs the batch's phone positions (lm.phone_targets; for training, "
                             "data.alignment_tokenizer)")
        for b, s in enumerate(row_spans(batch)):
            text = batch["text"][b, : s.text_end - s.text_start]
            yield s, text, batch["phone_pos"][b, : s.target_end - s.target_start]

    def _pointer_embeds(self, embeds: torch.Tensor, batch: dict) -> torch.Tensor:
        extra = torch.zeros_like(embeds)
        for b, (s, text, pos) in enumerate(self._aligned_rows(batch)):
            pointers = with_end(pos, len(text)).to(embeds.device)
            extra[b, s.target_start : s.target_end + 1] = self.pointer.embed(text, pointers)
        return extra

    def _advance_loss(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:
        losses = [advance_loss(self.pointer.advance_logit(hidden[b, s.target_start : s.target_end]),
                               with_end(pos, len(text)).to(hidden.device))
                  for b, (s, text, pos) in enumerate(self._aligned_rows(batch))]
        return torch.stack(losses).mean()

    def _phone_logits_and_labels(self, hidden: torch.Tensor, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Phone-head logits (N, 2, text vocab) and labels (N, 2: the phone the next token speaks, the phone
        after it or IGNORE_INDEX at the last phone) over every target position whose text is known.
        batch["phone_pos"]: per target token the index of the text phone it speaks (lm.phone_targets)."""
        positions, now, after = [], [], []
        for b, (s, text, pos) in enumerate(self._aligned_rows(batch)):
            if len(text) == 0:
                continue
            pos = pos.clamp(max=len(text) - 1)
            positions.append(hidden[b, s.target_start : s.target_end])
            now.append(text[pos])
            nxt = pos + 1
            after.append(torch.where(nxt < len(text), text[nxt.clamp(max=len(text) - 1)], IGNORE_INDEX))
        logits = self.phone_head(torch.cat(positions)).float().view(-1, 2, self.cfg.text_vocab_size)
        return logits, torch.stack([torch.cat(now), torch.cat(after)], dim=1).to(logits.device)

    def _phone_aux(self, hidden: torch.Tensor, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy (mean over both targets) and accuracy of the phone head."""
        logits, labels = self._phone_logits_and_labels(hidden, batch)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        acc = (logits.detach().argmax(-1) == labels)[labels != IGNORE_INDEX].float().mean()
        return loss, acc

    @torch.no_grad()
    def phone_scores(self, batch: dict) -> dict[str, int]:
        """Evaluation of the phone head: correct top-1 predictions and counts, for the phone the next token
        speaks ("now") and the phone after it ("next", which only the text can tell)."""
        hidden, _, _ = self._hidden_and_labels(batch)
        logits, labels = self._phone_logits_and_labels(hidden, batch)
        hit = logits.argmax(-1) == labels
        scored = labels != IGNORE_INDEX
        return {"now_correct": int(hit[:, 0].sum()), "now_count": int(scored[:, 0].sum()),
                "next_correct": int(hit[:, 1][scored[:, 1]].sum()), "next_count": int(scored[:, 1].sum())}

    def _speech_logits(self, hidden: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The head runs only where there is a label: most positions are text / prompt.
        scored = labels != IGNORE_INDEX
        return self.speech_head(hidden[scored]), labels[scored]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        """{"loss": mean cross-entropy over the target speech tokens + eos, "acc": top-1 accuracy on them}
        (the dict every stage returns to deepasmr.train's StageModule). In training, guided attention, the
        auxiliary phone loss and the text pointer's advance loss add to the loss when on; the dict then also
        carries "ce" and theirs."""
        hidden, attentions, labels = self._hidden_and_labels(batch)
        logits, labels = self._speech_logits(hidden, labels)
        ce = F.cross_entropy(logits.float(), labels)
        out = {"loss": ce, "acc": (logits.detach().argmax(dim=-1) == labels).float().mean()}
        cfg = self.cfg
        if attentions is not None:
            guided = guided_attention_loss(attentions, row_spans(batch), cfg.guided_attention_layers,
                                           cfg.guided_attention_heads, cfg.guided_attention_sigma,
                                           batch.get("phone_pos"), cfg.guided_attention_aligned_sigma)
            out.update(loss=out["loss"] + cfg.guided_attention_weight * guided, guided=guided.detach())
        if self.training and self.phone_head is not None and "phone_pos" in batch:
            phone, phone_acc = self._phone_aux(hidden, batch)
            out.update(loss=out["loss"] + cfg.phone_aux_weight * phone, phone=phone.detach(), phone_acc=phone_acc)
        if self.training and self.pointer is not None:
            advance = self._advance_loss(hidden, batch)
            out.update(loss=out["loss"] + advance, advance=advance.detach())
        if len(out) > 2:
            out["ce"] = ce.detach()
        return out

    @torch.no_grad()
    def score(self, batch: dict) -> dict[str, float]:
        """Teacher-forced sums for evaluation: summed NLL, correct top-1 predictions, scored tokens."""
        hidden, _, labels = self._hidden_and_labels(batch)
        logits, labels = self._speech_logits(hidden, labels)
        nll = F.cross_entropy(logits.float(), labels, reduction="sum")
        correct = (logits.argmax(dim=-1) == labels).sum()
        return {"nll_sum": float(nll), "correct": int(correct), "count": int(labels.numel())}

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
