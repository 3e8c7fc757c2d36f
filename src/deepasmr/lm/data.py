"""LM training pairs over the tokenizer's feature shards (deepasmr.data.shards).

Each item is one target utterance; its task prompt is *another utterance of the same speaker in the same
style* (what the model sees at inference for intra-style tasks), drawn afresh every time the item is read, and
its S_output is its own style. A share `no_prompt_prob` of items (and every utterance whose speaker has no
other usable clip in that style) has no prompt at all, so the style token alone learns to steer. Both styles
and both languages stay mixed: the paper found ASMR-only fine-tuning forgets normal speech.

Text ids come from phone symbols through the LM's own phone vocabulary (stored with the model), so the LM does
not depend on the tokenizer's vocabulary numbering.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from torch import nn
from torch.utils.data import Dataset

from deepasmr.errors import DataError
from deepasmr.lm.config import STYLES
from deepasmr.lm.text import PhoneTokenizer, text_tokenizer
from deepasmr.train.data import FrameDataModule

# Tokens per second of the tiny tokenizer (86.13 mel frames/s subsampled x4); only used to log audio s/s.
DEFAULT_TOKEN_RATE = 22_050 / 256 / 4


@dataclass
class Utterance:
    id: str
    speaker: str
    style: str
    language: str
    text: str
    tokens: torch.Tensor  # (n,) speech-token ids
    phones: list[str]  # phone symbols of `text`


class PairDataset(Dataset):
    """Items are dicts of 1-D long tensors; `lengths` is each item's padded-cost estimate for batching."""

    def __init__(
        self,
        utterances: Sequence[Utterance],
        encode: Callable[[Utterance], list[int]],
        no_prompt_prob: float,
        max_prompt_tokens: int,
        phone_positions: Sequence[torch.Tensor] | None = None,
    ) -> None:
        self.utts = list(utterances)
        self.text = [torch.tensor(encode(u), dtype=torch.long) for u in self.utts]
        # Per target token the index of the text phone it speaks (lm.phone_targets): the phone loss's labels,
        # aligned guidance's targets, a text pointer's inputs.
        self.phone_positions = phone_positions
        self.no_prompt_prob = no_prompt_prob
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, u in enumerate(self.utts):
            if len(u.tokens) <= max_prompt_tokens:
                groups[(u.speaker, u.style)].append(i)
        # Candidate prompts of item i: its group minus itself.
        self.prompts = [[j for j in groups[(u.speaker, u.style)] if j != i] for i, u in enumerate(self.utts)]
        own = [len(t) + len(u.tokens) for t, u in zip(self.text, self.utts, strict=True)]
        # Cost = own length + the longest prompt it may get (batches are planned once, prompts vary).
        self.lengths = [
            n + max((own[j] for j in cands), default=0) for n, cands in zip(own, self.prompts, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.utts)

    def _prompt_index(self, i: int) -> int | None:
        # Global torch RNG: seeded per worker by Lightning and restored on resume by the training module.
        candidates = self.prompts[i]
        if not candidates or float(torch.rand(())) < self.no_prompt_prob:
            return None
        return candidates[int(torch.randint(len(candidates), ()))]

    def __getitem__(self, i: int) -> dict:
        u = self.utts[i]
        j = self._prompt_index(i)
        empty = torch.zeros(0, dtype=torch.long)
        item = {
            "id": u.id,
            "text": self.text[i],
            "speech": u.tokens.long(),
            "style": STYLES.index(u.style),
            "prompt_text": self.text[j] if j is not None else empty,
            "prompt_speech": self.utts[j].tokens.long() if j is not None else empty,
        }
        if self.phone_positions is not None:
            item["phone_pos"] = self.phone_positions[i]
        return item


def _pad(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    lens = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if not any(lens):  # e.g. a batch of style-only items: no prompt at all
        return torch.zeros(len(seqs), 0, dtype=torch.long), lens
    return nn.utils.rnn.pad_sequence(seqs, batch_first=True), lens


def collate(items: list[dict], token_rate: float) -> dict:
    """Field-wise right padding (packing into LM sequences happens in SpeechLM, see lm.model)."""
    batch: dict = {"ids": [it["id"] for it in items], "batch_size": len(items)}
    for key in ("text", "speech", "prompt_text", "prompt_speech", "phone_pos"):
        if key in items[0]:
            batch[key], batch[f"{key}_lens"] = _pad([it[key] for it in items])
    batch["style"] = torch.tensor([it["style"] for it in items], dtype=torch.long)
    batch["seconds"] = float(batch["speech_lens"].sum()) / token_rate
    return batch


# -- feature shards (deepasmr.data.shards) -------------------------------------------------------------------


def _phones_from_frontend(rows: list[dict]) -> dict[str, list[str]]:
    from deepasmr.frontend import phonemize_batch

    out: dict[str, list[str]] = {}
    for language in sorted({r["language"] for r in rows}):
        group = [r for r in rows if r["language"] == language]
        for r, phones in zip(group, phonemize_batch([r["text"] for r in group], language), strict=True):
            out[r["id"]] = phones
    return out


def read_shard_utterances(root: str | Path, splits: Sequence[str], max_tokens: int = 0) -> list[Utterance]:
    """Index rows of `splits` with their speech tokens and phone symbols, all in memory (a few bytes per
    token; the mels are never read). Phones are the shard's ids through meta.json's vocabulary: the manifest's
    phonemes, which deepasmr.frontend wrote, the same G2P the model sees at inference. Shards without
    phone ids fall back to phonemizing the text."""
    from deepasmr.data.shards import INDEX

    root = Path(root)
    if not (root / INDEX).is_file():
        raise DataError(f"{root / INDEX}: no shard index (run the tokenizer's feature extraction first)")
    vocab = shard_phone_vocab(root)
    lines = (root / INDEX).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    rows = [r for r in rows if r["split"] in splits and (not max_tokens or r["n_tokens"] <= max_tokens)]
    tokens: dict[str, torch.Tensor] = {}
    phones: dict[str, list[str]] = {}
    for shard in sorted({r["shard"] for r in rows}):
        path = root / shard
        if not path.is_file():
            raise DataError(f"{path}: shard file named in {INDEX} is missing")
        with safe_open(str(path), framework="pt") as handle:
            names = set(handle.keys())
            for r in (r for r in rows if r["shard"] == shard):
                if f"{r['id']}/tokens" not in names:
                    raise DataError(f"{r['id']}: no speech tokens in {path}")
                tokens[r["id"]] = handle.get_tensor(f"{r['id']}/tokens").long().reshape(-1)
                if vocab and f"{r['id']}/phones" in names:
                    phones[r["id"]] = [vocab[i] for i in handle.get_tensor(f"{r['id']}/phones").tolist()]
    missing = [r for r in rows if r["id"] not in phones]
    if missing:
        phones.update(_phones_from_frontend(missing))
    return [Utterance(r["id"], r["speaker"], r["style"], r["language"], r["text"], tokens[r["id"]],
                      phones[r["id"]]) for r in rows]


def shard_phone_vocab(root: str | Path) -> list[str]:
    """The phone symbols the shards' phone ids index (the tokenizer's vocabulary, meta.json); [] if none."""
    return list(read_shard_meta(root).get("tokenizer", {}).get("vocab") or [])


def read_shard_meta(root: str | Path) -> dict:
    """The shard folder's meta.json (tokenizer codebook size, token rate, phone vocabulary); {} if absent."""
    from deepasmr.data.shards import META

    path = Path(root) / META
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


# -- Lightning data module ---------------------------------------------------------------------------------


class LMDataModule(FrameDataModule):
    """Train / validation PairDatasets from one shard folder (see lm.stage for the config)."""

    def __init__(self, cfg) -> None:
        super().__init__(cfg.batch, cfg.trainer.seed)
        self.cfg = cfg
        tokenizer = read_shard_meta(cfg.data.shards).get("tokenizer", {})
        self.codebook_size: int | None = tokenizer.get("codebook_size")
        self.token_rate: float = tokenizer.get("token_rate_hz", DEFAULT_TOKEN_RATE)
        self._utts: dict[tuple[str, ...], list[Utterance]] = {}

    def utterances(self, splits: Sequence[str]) -> list[Utterance]:
        key = tuple(splits)
        if key not in self._utts:
            self._utts[key] = read_shard_utterances(self.cfg.data.shards, key, self.cfg.data.max_target_tokens)
        return self._utts[key]

    def phone_symbols(self) -> list[str]:
        """The phone vocabulary of the training splits (sorted, so every rank builds the same one)."""
        return PhoneTokenizer.vocabulary(u.phones for u in self.utterances(self.cfg.data.train_splits))

    def max_token(self) -> int:
        return max(int(u.tokens.max()) for u in self.utterances(self.cfg.data.train_splits) if len(u.tokens))

    def _encoder(self) -> Callable[[Utterance], list[int]]:
        model = self.cfg.model
        tokenizer = text_tokenizer(model)
        if model.text_unit == "phone":
            return lambda u: tokenizer.encode_phones(u.phones)
        return lambda u: tokenizer.encode(u.text, u.language)

    def _phone_positions(self, utts: list[Utterance]) -> list[torch.Tensor] | None:
        """Phone alignment of every target token when the phone loss, aligned guidance or a text pointer is on
        (else None)."""
        if not self.cfg.model.needs_phone_alignment or not utts:
            return None
        tokenizer_dir = self.cfg.data.alignment_tokenizer
        if not tokenizer_dir:
            raise DataError("model.phone_aux_weight / guided_attention_aligned_sigma / text_pointer need "
                            f"data.alignment_tokenizer: the tokenizer folder that wrote {self.cfg.data.shards}")
        from deepasmr.lm.phone_targets import token_phone_positions

        vocab = shard_phone_vocab(self.cfg.data.shards)
        positions, fallbacks = token_phone_positions(tokenizer_dir, vocab, utts)
        if fallbacks:
            print(f"phone alignment: {fallbacks} of {len(utts)} utterances spread evenly (CTC could not align)")
        return positions

    def build_datasets(self):
        data, model = self.cfg.data, self.cfg.model
        encode = self._encoder()
        train_utts = self.utterances(data.train_splits)
        train = PairDataset(train_utts, encode, model.no_prompt_prob, data.max_prompt_tokens,
                            self._phone_positions(train_utts))
        # Validation scores the speech tokens alone, so needs an alignment only for a text pointer's inputs.
        val_utts = self.utterances(data.val_splits) if data.val_splits else []
        val_positions = self._phone_positions(val_utts) if model.text_pointer else None
        val = (PairDataset(val_utts, encode, model.no_prompt_prob, data.max_prompt_tokens, val_positions)
               if val_utts else None)
        return train, val

    def collate(self, items: list[dict]) -> dict:
        return collate(items, self.token_rate)
