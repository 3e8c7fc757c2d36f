"""Flow-decoder training data: utterances from the feature shards, prompt pairing, and collate.

Shards are read with `deepasmr.data.shards.ShardReader` (index.jsonl + safetensors; per utterance
fp16 log-mel [n_mels, T], int tokens, 256-d speaker embedding); `load_utterance` is the one place
that knows its tensor names, `check_compatible` refuses shards made with another mel or token rate.

Prompt pairing: every example may carry a second utterance of the same speaker — the same style
(`same_style`, the paper's intra-style setting) or the other style (`other_style`, the beyond-paper
cross-style variant) — which the decoder uses as prefix with probability `separate_prompt_prob`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from deepasmr.audio import MelConfig
from deepasmr.data.shards import ShardReader
from deepasmr.errors import DataError
from deepasmr.flow.config import FlowConfig
from deepasmr.flow.pitch import UNKNOWN_F0

PAIRINGS = ("none", "same_style", "other_style")


@dataclass
class FlowDataConfig:
    shard_dir: str = "data/shards"
    train_split: str = "train"
    val_split: str = "dev"  # "" = no validation set
    # One of PAIRINGS. "none" loads no partner (the default recipe prompts with a prefix of the target);
    # the cross-style variant sets "other_style" together with model.separate_prompt_prob > 0.
    prompt_pairing: str = "none"
    max_items: int = 0  # 0 = all (smoke runs use a few)
    # The tokenizer that wrote the shards: its CTC head aligns each token to the phone it speaks, for a decoder
    # told the phones (model.phone_vocab; filled from the shards' phone vocabulary when left empty). None = off.
    alignment_tokenizer: str | None = None
    # F0 labels for a decoder told the pitch (model.pitch_cond): a label file of `deepasmr.vocoder.voicing`
    # ("<id>.f0" per utterance, Hz at the mel rate), e.g. `--tracker world` over the corpus. None = off.
    pitch_labels: str | None = None


def check_compatible(reader: ShardReader, cfg: FlowConfig) -> None:
    """The shards must have been extracted with the decoder's mel, token rate and codebook."""
    meta = reader.meta
    problems = []
    if meta.get("frames_per_token", cfg.token_ratio) != cfg.token_ratio:
        problems.append(f"{meta['frames_per_token']} frames per token (decoder: {cfg.token_ratio})")
    codebook = meta.get("tokenizer", {}).get("codebook_size", cfg.vocab_size)
    if codebook > cfg.vocab_size:
        problems.append(f"{codebook} token codes (decoder vocab: {cfg.vocab_size})")
    if "mel" in meta and MelConfig(**meta["mel"]) != cfg.mel:
        problems.append(f"mel {meta['mel']} (decoder: {cfg.mel.to_dict()})")
    if problems:
        raise DataError(f"{reader.dir}: shards do not fit the flow config: " + "; ".join(problems))


def load_utterance(reader: ShardReader, uid: str) -> dict[str, torch.Tensor]:
    """mel, tokens and spk_emb of one utterance (a failed speaker embedding is stored as zeros, which
    is also the decoder's "no speaker" condition)."""
    t = reader[uid]
    return {"mel": t["mel"], "tokens": t["tokens"], "spk_emb": t["spk"]}


def pair_candidates(rows: list[dict], pairing: str) -> list[list[int]]:
    """For each row, indices of rows usable as its prompt: same speaker, other utterance, and the
    same or the other style. Rows without a candidate get an empty list (no prompt)."""
    if pairing not in PAIRINGS:
        raise DataError(f"prompt_pairing {pairing!r} is not one of {PAIRINGS}")
    if pairing == "none":
        return [[] for _ in rows]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault((r["speaker"], r["style"]), []).append(i)
    styles = {r["style"] for r in rows}
    out = []
    for i, r in enumerate(rows):
        if pairing == "same_style":
            out.append([j for j in groups[(r["speaker"], r["style"])] if j != i])
        else:
            out.append([j for s in styles - {r["style"]} for j in groups.get((r["speaker"], s), [])])
    return out


def token_phones(shard_dir: str, splits: list[str], tokenizer_dir: str) -> dict[str, torch.Tensor]:
    """Per utterance of `splits`, the phone each speech token speaks as ids into the shards' phone vocabulary
    (lm.phone_targets' CTC forced alignment with the tokenizer that wrote the shards)."""
    from deepasmr.lm.data import read_shard_utterances, shard_phone_vocab
    from deepasmr.lm.phone_targets import token_phone_positions

    vocab = shard_phone_vocab(shard_dir)
    if not vocab:
        raise DataError(f"{shard_dir}: its meta.json has no phone vocabulary to align to")
    index = {symbol: i for i, symbol in enumerate(vocab)}
    utts = read_shard_utterances(shard_dir, splits)
    positions, _ = token_phone_positions(tokenizer_dir, vocab, utts)
    unknown = len(vocab)  # FlowConfig.null_phone (a text phonemised without the shards' ids may hold others)
    return {u.id: torch.tensor([index.get(u.phones[p], unknown) for p in pos.tolist()], dtype=torch.long)
            for u, pos in zip(utts, positions, strict=True)}


def pitch_labels(path: str) -> dict[str, torch.Tensor]:
    """{utterance id: F0 in Hz per mel frame} from a `deepasmr.vocoder.voicing` label file."""
    from deepasmr.vocoder.voicing import load_labels, split_labels

    _, f0 = split_labels(load_labels(path))
    if not f0:
        raise DataError(f"{path}: the label file holds no F0 (make it with python -m deepasmr.vocoder.voicing)")
    return {k: torch.from_numpy(v) for k, v in f0.items()}


def fit_frames(f0: torch.Tensor, n_frames: int) -> torch.Tensor:
    """F0 labels cut or padded (unvoiced) to a mel's frame count: the two may differ by a frame at the end."""
    out = torch.zeros(n_frames)
    n = min(n_frames, f0.numel())
    out[:n] = f0[:n]
    return out


class FlowDataset(Dataset):
    def __init__(self, reader: ShardReader, split: str, pairing: str = "same_style", max_items: int = 0,
                 phones: dict[str, torch.Tensor] | None = None, f0: dict[str, torch.Tensor] | None = None):
        self.reader = reader
        self.phones = phones  # per utterance id: each token's phone id (token_phones), or None
        self.f0 = f0  # per utterance id: F0 in Hz per mel frame (pitch_labels), or None
        self.rows = [r for r in reader.index if r.get("split") == split]
        if max_items:
            self.rows = self.rows[:max_items]
        if not self.rows:
            raise DataError(f"{reader.dir}: no utterances in split {split!r}")
        self.partners = pair_candidates(self.rows, pairing)
        self.lengths = [int(r["n_frames"]) for r in self.rows]  # the frame batcher's cost

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        row = self.rows[i]
        item = {"id": row["id"], **load_utterance(self.reader, row["id"])}
        if self.phones is not None:
            item["phones"] = self.phones[row["id"]]
        if self.f0 is not None:  # an utterance without a label is "F0 not known"
            n = item["mel"].shape[-1]
            known = self.f0.get(row["id"])
            item["f0"] = torch.full((n,), UNKNOWN_F0) if known is None else fit_frames(known, n)
        partners = self.partners[i]
        if partners:
            j = partners[int(torch.randint(len(partners), ()))]
            prompt = load_utterance(self.reader, self.rows[j]["id"])
            item["prompt_mel"], item["prompt_tokens"] = prompt["mel"], prompt["tokens"]
            item["prompt_spk_emb"] = prompt["spk_emb"]
        return item


def _pad_stack(seqs: list[torch.Tensor], value: float, dtype) -> torch.Tensor:
    """Pad along the last axis and stack."""
    n = max(s.shape[-1] for s in seqs)
    out = torch.full((len(seqs), *seqs[0].shape[:-1], n), value, dtype=dtype)
    for i, s in enumerate(seqs):
        out[i, ..., : s.shape[-1]] = s
    return out


def collate(items: list[dict], log_floor: float, frame_rate: float) -> dict:
    """Items -> the decoder's batch dict (see FlowDecoder.forward). Mel is padded with the log floor
    (silence); padding is masked out anyway. Prompt fields appear when any item has one."""
    silence = math.log(log_floor)
    mels = [it["mel"].float() for it in items]
    toks = [it["tokens"].long().reshape(-1) for it in items]
    batch = {
        "ids": [it["id"] for it in items],
        "mel": _pad_stack(mels, silence, torch.float32),
        "mel_lens": torch.tensor([m.shape[-1] for m in mels]),
        "tokens": _pad_stack(toks, 0, torch.long),
        "token_lens": torch.tensor([t.numel() for t in toks]),
        "batch_size": len(items),
        "seconds": sum(m.shape[-1] for m in mels) / frame_rate,
    }
    if all("phones" in it for it in items):
        batch["phones"] = _pad_stack([it["phones"] for it in items], 0, torch.long)
    if all("f0" in it for it in items):
        batch["f0"] = _pad_stack([it["f0"] for it in items], UNKNOWN_F0, torch.float32)
    if all("spk_emb" in it for it in items):
        batch["spk_emb"] = torch.stack([it["spk_emb"].float().reshape(-1) for it in items])
    if any("prompt_mel" in it for it in items):
        # Items without a partner get an empty prompt (length 0): the decoder then uses a span of the
        # target itself, as it does when no prompt fields are present at all.
        n_mels = mels[0].shape[0]
        p_mels = [it["prompt_mel"].float() if "prompt_mel" in it else torch.zeros(n_mels, 0) for it in items]
        p_toks = [it["prompt_tokens"].long().reshape(-1) if "prompt_mel" in it else torch.zeros(0) for it in items]
        batch["prompt_mel"] = _pad_stack(p_mels, silence, torch.float32)
        batch["prompt_mel_lens"] = torch.tensor([m.shape[-1] for m in p_mels])
        batch["prompt_tokens"] = _pad_stack(p_toks, 0, torch.long)
        batch["prompt_token_lens"] = torch.tensor([t.numel() for t in p_toks])
        if "spk_emb" in batch:
            batch["prompt_spk_emb"] = torch.stack(
                [it["prompt_spk_emb"].float().reshape(-1) if "prompt_mel" in it else batch["spk_emb"][i]
                 for i, it in enumerate(items)]
            )
    return batch


def mel_stats(dataset: FlowDataset, max_items: int = 200) -> tuple[float, float]:
    """Mean and standard deviation of the log-mel over (up to max_items of) a dataset — the values
    for FlowConfig.mel_mean / mel_std."""
    total, total_sq, count = 0.0, 0.0, 0
    for i in range(min(len(dataset), max_items)):
        mel = dataset.reader[dataset.rows[i]["id"]]["mel"].double()
        total, total_sq, count = total + mel.sum().item(), total_sq + (mel**2).sum().item(), count + mel.numel()
    mean = total / count
    return mean, math.sqrt(max(total_sq / count - mean**2, 0.0))
