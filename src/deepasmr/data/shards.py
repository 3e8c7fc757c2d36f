"""Feature shards the LM and flow stages train on: per utterance speech tokens, log-mel, speaker embedding
and phone ids, extracted once over a manifest.

Layout of a shard folder:
  meta.json         tokenizer config (rates, vocab), mel config, what each tensor is
  index.jsonl       one row per utterance: id, speaker, style, language, text, split, n_frames, n_tokens, shard
  shard-00000.safetensors ...  tensors "<id>/tokens" int32 [n_tokens], "<id>/mel" fp16 [n_mels, n_frames],
                    "<id>/spk" fp32 [256] (resemblyzer; zeros + "spk_ok": false where it could not embed),
                    "<id>/phones" int32 (ids in meta.json's "phone_vocab": the tokenizer's CTC vocabulary
                    extended by any phone of this manifest it lacks, so no phone becomes <unk>; the first
                    "ctc_vocab_size" entries are the tokenizer's own, same indices)
Files are written atomically, so a killed extraction leaves whole shards; re-running skips finished ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepasmr.atomic import atomic_write
from deepasmr.errors import DataError

INDEX = "index.jsonl"
META = "meta.json"
SPEAKER_DIM = 256


@dataclass(frozen=True)
class ShardConfig:
    utterances_per_shard: int = 256
    speaker_embedding: bool = True


def _shard_name(i: int) -> str:
    return f"shard-{i:05d}.safetensors"


def _speaker_embedder(enabled: bool):
    """deepasmr.speaker.embedding.embed(wav, sr) -> 256-d, or None when disabled / unavailable."""
    if not enabled:
        return None
    try:
        from deepasmr.speaker.embedding import embed
    except ImportError:
        return None
    return embed


def _extract_one(model, vocab, row: dict, mel_cfg, embed) -> tuple[dict[str, torch.Tensor], dict]:
    from deepasmr.audio import load_audio, log_mel
    from deepasmr.errors import AudioError

    wav, sr = load_audio(row["path"], mel_cfg.sample_rate, trim=False)
    mel = log_mel(wav, mel_cfg)
    tokens = model.encode(mel)[0]
    spk, spk_ok = torch.zeros(SPEAKER_DIM), False
    if embed is not None:
        try:
            spk, spk_ok = torch.from_numpy(np.asarray(embed(wav, sr), dtype=np.float32)), True
        except AudioError:  # too little speech to embed: keep zeros, flagged in the index
            spk_ok = False
    uid = row["id"]
    tensors = {
        f"{uid}/tokens": tokens.to(torch.int32),
        f"{uid}/mel": mel.half().contiguous(),
        f"{uid}/spk": spk.float(),
        f"{uid}/phones": torch.tensor(vocab.encode(row["phonemes"]), dtype=torch.int32),
    }
    info = {k: row[k] for k in ("id", "speaker", "style", "language", "text", "split")}
    info.update(n_frames=int(mel.shape[1]), n_tokens=int(tokens.numel()), spk_ok=spk_ok)
    return tensors, info


def extract_shards(manifest: str | Path, model_dir: str | Path, out_dir: str | Path,
                   splits: tuple[str, ...] | None = None, cfg: ShardConfig = ShardConfig(),
                   progress: bool = True) -> Path:
    """Tokenize every row of `manifest` (optionally only `splits`) into shards in `out_dir`; returns the index."""
    from safetensors.torch import save_file
    from tqdm import tqdm

    from deepasmr.audio import MelConfig
    from deepasmr.tokenizer.dataset import read_rows
    from deepasmr.tokenizer.io import load_tokenizer
    from deepasmr.tokenizer.vocab import PhoneVocab

    model, ctc_vocab, tok_meta = load_tokenizer(model_dir)
    mel_cfg = MelConfig(**tok_meta["mel"])
    rows = sorted(read_rows(manifest, splits), key=lambda r: r["id"])
    if not rows:
        raise DataError(f"{manifest}: no rows to extract")
    extra = sorted({p for r in rows for p in r["phonemes"].split()} - set(ctc_vocab.symbols))
    vocab = PhoneVocab(ctc_vocab.symbols[2:] + extra)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    embed = _speaker_embedder(cfg.speaker_embedding)
    meta = {"tokenizer": {**{k: tok_meta[k] for k in ("model", "codebook_size", "token_rate_hz")},
                          "vocab": vocab.symbols, "ctc_vocab_size": len(ctc_vocab)},
            "phone_vocab": vocab.symbols, "ctc_vocab_size": len(ctc_vocab),
            "mel": tok_meta["mel"], "frames_per_token": int(np.prod(tok_meta["model"]["subsample_strides"])),
            "manifest": str(manifest), "speaker_embedding": "resemblyzer GE2E 256-d" if embed else None,
            "utterances_per_shard": cfg.utterances_per_shard}
    atomic_write(out / META, lambda t: Path(t).write_text(json.dumps(meta, indent=1, ensure_ascii=False)))
    chunks = [rows[i : i + cfg.utterances_per_shard] for i in range(0, len(rows), cfg.utterances_per_shard)]
    infos: list[dict] = []
    bar = tqdm(total=len(rows), desc="shards", unit="utt", disable=not progress)
    for n, chunk in enumerate(chunks):
        part = out / f".{_shard_name(n)}.index.json"
        if (out / _shard_name(n)).is_file() and part.is_file():  # finished by an earlier (killed) run
            infos += json.loads(part.read_text())
            bar.update(len(chunk))
            continue
        tensors, chunk_infos = {}, []
        for row in chunk:
            t, info = _extract_one(model, vocab, row, mel_cfg, embed)
            tensors.update(t)
            chunk_infos.append({**info, "shard": _shard_name(n)})
            bar.update(1)
        atomic_write(out / _shard_name(n), lambda t, ts=tensors: save_file(ts, t))
        atomic_write(part, lambda t, ci=chunk_infos: Path(t).write_text(json.dumps(ci, ensure_ascii=False)))
        infos += chunk_infos
    bar.close()
    text = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in infos)
    atomic_write(out / INDEX, lambda t: Path(t).write_text(text, encoding="utf-8"))
    return out / INDEX


class ShardReader:
    """Random access to extracted features: `reader[id] -> {"tokens", "mel", "spk", "phones"}` tensors."""

    def __init__(self, shard_dir: str | Path) -> None:
        self.dir = Path(shard_dir)
        if not (self.dir / INDEX).is_file():
            raise DataError(f"{self.dir}: no {INDEX} (run `deepasmr tokenize --manifest M --out-shards DIR`)")
        self.index = [json.loads(line) for line in (self.dir / INDEX).read_text(encoding="utf-8").splitlines()
                      if line.strip()]
        self.meta = json.loads((self.dir / META).read_text())
        self._by_id = {row["id"]: row for row in self.index}
        self._open: dict[str, object] = {}

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.index)

    def _handle(self, shard: str):
        from safetensors import safe_open

        if shard not in self._open:
            self._open[shard] = safe_open(str(self.dir / shard), framework="pt")
        return self._open[shard]

    def __getitem__(self, uid: str) -> dict[str, torch.Tensor]:
        row = self._by_id.get(uid)
        if row is None:
            raise KeyError(uid)
        handle = self._handle(row["shard"])
        return {k: handle.get_tensor(f"{uid}/{k}") for k in ("tokens", "mel", "spk", "phones")}
