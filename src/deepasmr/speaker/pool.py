"""The virtual speaker pool (DESIGN.md §5): task prompts in one style from synthetic speakers.

A pools folder (inside a model bundle: `<bundle>/pools/`) holds one pool folder per style:

    pools/normal/  pool.json  entries.jsonl  embeddings.safetensors  clips/<id>.flac
    pools/asmr/    ...

`entries.jsonl`: one object per entry (id, style, language, text, audio relative to the pool folder, speaker
descriptor gender/pitch/rate, tokens or null until a tokenizer is given, plus provenance). Embeddings are
resemblyzer GE2E vectors keyed by entry id. Every pool folder is written to a temp folder and renamed into place.

Builders (corpus, folder of clips, N2A bootstrap from the normal pool) live in `pool_build.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from deepasmr.errors import AudioError, DataError, ModelFilesError

FORMAT, VERSION = "deepasmr-pool", 1
META, ENTRIES, EMBEDDINGS, CLIPS = "pool.json", "entries.jsonl", "embeddings.safetensors", "clips"
STYLES = ("normal", "asmr")
LANGUAGES = ("en", "zh")
UNKNOWN = "unknown"  # descriptor of clips whose gender/pitch/rate nobody told us (folder pools)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
REQUIRED_KEYS = ("id", "style", "language", "text", "audio", "gender", "pitch", "rate")
# synthesize(text, voice_wav, style) -> (wav, sr): the N2A pipeline, used to bootstrap the ASMR pool.
Synthesize = Callable[[str, Path, str], tuple[np.ndarray, int]]


@dataclass(frozen=True)
class PoolConfig:
    per_style: int = 50  # the paper's pool size
    seed: int = 0
    # Speakers the corpus pool may use. Never "test": those voices are the evaluation's speaker prompts.
    splits: tuple[str, ...] = ("train", "dev")
    sample_rate: int = 22_050  # the tiny bundle's mel/vocoder rate
    # FLAC (16-bit) is lossless and about half of 16-bit wav; the bundle has a 60 MB budget.
    audio_format: str = "flac"
    # Task prompts long enough to carry style, short enough to leave the LM context to the target text.
    min_seconds: float = 1.5
    max_seconds: float = 6.0
    # --from-normal: drop bootstrapped clips whose R_UV verdict is not ASMR (a failed N2A is no ASMR prompt).
    check_bootstrap_style: bool = True


@dataclass
class PoolEntry:
    id: str
    style: str
    language: str
    text: str
    audio: str
    gender: str = UNKNOWN
    pitch: str = UNKNOWN
    rate: str = UNKNOWN
    tokens: list[int] | None = None
    speaker: str = ""  # the virtual speaker (corpus id) or the folder clip's name
    source: str = ""  # where the clip came from (corpus utterance id, file, or the normal entry it was made from)
    duration: float = 0.0
    r_uv: float | None = None  # unvoiced ratio, when the style was measured rather than known

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict, where: str) -> PoolEntry:
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected a JSON object")
        missing = [k for k in REQUIRED_KEYS if not row.get(k)]
        if missing:
            raise DataError(f"{where}: missing or empty {missing}")
        if row["style"] not in STYLES:
            raise DataError(f"{where}: style {row['style']!r} is not one of {STYLES}")
        if row["language"] not in LANGUAGES:
            raise DataError(f"{where}: language {row['language']!r} is not one of {LANGUAGES}")
        tokens = row.get("tokens")
        if tokens is not None and not (
            isinstance(tokens, list) and all(isinstance(t, int) and t >= 0 for t in tokens)
        ):
            raise DataError(f"{where}: tokens must be a list of non-negative integers or null")
        known = {f.name for f in fields(cls)}  # unknown keys are ignored: newer writers may add fields
        return cls(**{k: v for k, v in row.items() if k in known})


@dataclass
class Pool:
    root: Path
    style: str
    entries: list[PoolEntry]
    embeddings: np.ndarray  # (len(entries), dim) float32, rows in entry order
    meta: dict = field(default_factory=dict)

    def audio_path(self, entry: PoolEntry) -> Path:
        return self.root / entry.audio

    def get(self, entry_id: str) -> PoolEntry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise DataError(f"{self.root}: no entry {entry_id!r}")

    @property
    def languages(self) -> set[str]:
        return {e.language for e in self.entries}

    @property
    def has_tokens(self) -> bool:
        return all(e.tokens is not None for e in self.entries)

    def tokens_from(self, tokenizer_dir: str | os.PathLike) -> bool:
        """Whether the entries' tokens were made by this tokenizer (else: deepasmr pool tokens DIR --tokenizer)."""
        made_by = (self.meta.get("tokenizer") or {}).get("weights_sha256_16")
        return self.has_tokens and made_by is not None and made_by == tokenizer_digest(tokenizer_dir)


# -- reading -------------------------------------------------------------------------------------------------

def load_pool(path: str | os.PathLike) -> Pool:
    """One pool folder, validated: ModelFilesError for missing files, DataError for bad content."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    root = Path(path)
    for name in (META, ENTRIES, EMBEDDINGS):
        if not (root / name).is_file():
            raise ModelFilesError(f"{root}: not a speaker pool ({name} is missing; build one: deepasmr pool build)")
    try:
        meta = json.loads((root / META).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{root / META}: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("style") not in STYLES:
        raise DataError(f"{root / META}: not a {FORMAT} file with a style of {STYLES}")
    if meta.get("version", 0) > VERSION:
        raise DataError(f"{root / META}: pool format version {meta['version']} is newer than this code ({VERSION})")
    entries, seen = [], set()
    for n, line in enumerate((root / ENTRIES).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{root / ENTRIES}:{n}"
        try:
            entry = PoolEntry.from_dict(json.loads(line), where)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: not valid JSON ({err})") from None
        if entry.id in seen:
            raise DataError(f"{where}: duplicate id {entry.id!r}")
        if entry.style != meta["style"]:
            raise DataError(f"{where}: a {entry.style} entry in the {meta['style']} pool")
        audio = (root / entry.audio).resolve()
        if Path(entry.audio).is_absolute() or root.resolve() not in audio.parents:
            raise DataError(f"{where}: audio {entry.audio!r} must be a path inside the pool folder")
        if not audio.is_file():
            raise ModelFilesError(f"{where}: clip {entry.audio} is missing")
        seen.add(entry.id)
        entries.append(entry)
    if not entries:
        raise DataError(f"{root / ENTRIES}: the pool has no entries")
    try:
        tensors = load_file(str(root / EMBEDDINGS))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFilesError(f"{root / EMBEDDINGS}: unreadable ({err})") from None
    lacking = [e.id for e in entries if e.id not in tensors]
    if lacking:
        raise DataError(f"{root / EMBEDDINGS}: no embedding for {len(lacking)} entries, e.g. {lacking[0]!r}")
    emb = np.stack([np.asarray(tensors[e.id], dtype=np.float32).ravel() for e in entries])
    if not np.all(np.isfinite(emb)) or np.any(np.linalg.norm(emb, axis=1) == 0):
        raise DataError(f"{root / EMBEDDINGS}: embeddings must be finite and non-zero")
    return Pool(root=root, style=meta["style"], entries=entries, embeddings=emb, meta=meta)


def load_pools(path: str | os.PathLike) -> dict[str, Pool]:
    """A pools folder (one sub-folder per style) or a single pool folder -> {style: Pool}."""
    root = Path(path)
    if (root / META).is_file():
        pool = load_pool(root)
        return {pool.style: pool}
    pools = {s: load_pool(root / s) for s in STYLES if (root / s / META).is_file()}
    if not pools:
        raise ModelFilesError(f"{root}: no speaker pool here (expected {META}, or normal/ and asmr/ pool folders)")
    return pools


def composition(pool: Pool) -> dict:
    """Counts by language, gender, pitch, rate and speaker: the spread the paper asks for."""
    def count(key: str) -> dict:
        out: dict[str, int] = {}
        for e in pool.entries:
            out[getattr(e, key)] = out.get(getattr(e, key), 0) + 1
        return dict(sorted(out.items()))

    seconds = sum(e.duration for e in pool.entries)
    return {"style": pool.style, "entries": len(pool.entries), "speakers": len({e.speaker for e in pool.entries}),
            "seconds": round(seconds, 1), "tokens": pool.has_tokens,
            **{k: count(k) for k in ("language", "gender", "pitch", "rate")}}


# -- writing -------------------------------------------------------------------------------------------------

def tokenizer_digest(model_dir: str | os.PathLike) -> str | None:
    """Identity of a tokenizer's weights; pool.json keeps it so stale tokens can be caught (Pool.tokens_from)."""
    weights = Path(model_dir) / "tokenizer.safetensors"
    return hashlib.sha256(weights.read_bytes()).hexdigest()[:16] if weights.is_file() else None


class TokenEncoder:
    """A trained speech tokenizer (deepasmr.tokenizer) as wav -> token ids, plus its identity for pool.json."""

    def __init__(self, model_dir: str | os.PathLike) -> None:
        from deepasmr.audio import MelConfig
        from deepasmr.tokenizer.io import load_tokenizer

        self.model, _, meta = load_tokenizer(model_dir)
        self.mel_cfg = MelConfig(**meta["mel"])
        self.info = {"path": str(model_dir), "weights_sha256_16": tokenizer_digest(model_dir),
                     "token_rate_hz": meta.get("token_rate_hz"), "codebook_size": meta.get("codebook_size")}

    def __call__(self, wav: np.ndarray, sr: int) -> list[int]:
        from deepasmr.audio import log_mel, resample

        mel = log_mel(resample(wav, sr, self.mel_cfg.sample_rate), self.mel_cfg)
        return [int(t) for t in self.model.encode(mel)[0].tolist()]


@contextmanager
def single_thread() -> Iterator[None]:
    """One torch intra-op thread while embedding: GE2E's LSTM on a few seconds gains nothing from threads, and
    on our shared 2-core machine two spinning threads made each clip ~5x slower (2.5 s vs 0.45 s measured)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _replace_dir(tmp: Path, out: Path) -> None:
    """Swap a finished temp folder into place; readers see the old pool or the new one, never half."""
    mask = os.umask(0)
    os.umask(mask)
    for p in tmp.rglob("*"):  # temp-file writers leave 0600; a bundle is meant to be shared
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def _write_into(tmp: Path, style: str, items: Iterable[tuple[PoolEntry, np.ndarray, int]], cfg: PoolConfig,
                tokens: TokenEncoder | None, meta: dict) -> None:
    from safetensors.numpy import save_file

    from deepasmr.audio import resample, save_audio
    from deepasmr.speaker.embedding import embed

    (tmp / CLIPS).mkdir(parents=True)
    rows, vectors = [], {}
    for entry, wav, sr in items:
        if entry.style != style:
            raise DataError(f"entry {entry.id}: a {entry.style} clip cannot go into the {style} pool")
        wav = resample(np.asarray(wav, dtype=np.float32), sr, cfg.sample_rate)
        entry.audio = f"{CLIPS}/{entry.id}.{cfg.audio_format}"
        entry.duration = round(wav.size / cfg.sample_rate, 3)
        save_audio(tmp / entry.audio, wav, cfg.sample_rate)
        try:
            vectors[entry.id] = embed(wav, cfg.sample_rate)
        except AudioError as err:
            raise AudioError(f"pool entry {entry.id} ({entry.source}): {err}") from None
        if tokens is not None:
            entry.tokens = tokens(wav, cfg.sample_rate)
        rows.append(entry.to_dict())
    if not rows:
        raise DataError(f"no clips to put into the {style} pool")
    save_file(vectors, str(tmp / EMBEDDINGS))
    (tmp / ENTRIES).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    info = {"format": FORMAT, "version": VERSION, "style": style, "sample_rate": cfg.sample_rate,
            "embedding": "resemblyzer GE2E 256-d", "tokenizer": tokens.info if tokens else None, **meta}
    (tmp / META).write_text(json.dumps(info, indent=1, ensure_ascii=False), encoding="utf-8")


def write_pool(out: str | os.PathLike, style: str, items: Iterable[tuple[PoolEntry, np.ndarray, int]],
               cfg: PoolConfig = PoolConfig(), tokens: TokenEncoder | None = None, meta: dict | None = None) -> Path:
    """Write (entry, wav, sr) items as a pool folder: clips resampled to cfg.sample_rate, embedded, tokenised."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with single_thread():
            _write_into(tmp, style, items, cfg, tokens, meta or {})
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _pool_items(pool: Pool):
    from deepasmr.audio import load_audio

    for e in pool.entries:
        wav, sr = load_audio(pool.audio_path(e), trim=False)
        yield PoolEntry(**{**e.to_dict(), "tokens": None}), wav, sr


def fill_tokens(pool_dir: str | os.PathLike, tokenizer_dir: str | os.PathLike,
                cfg: PoolConfig = PoolConfig()) -> Path:
    """Re-tokenise an existing pool with a (new) tokenizer; clips and embeddings are rewritten unchanged."""
    pool = load_pool(pool_dir)
    cfg = PoolConfig(**{**asdict(cfg), "sample_rate": pool.meta.get("sample_rate", cfg.sample_rate),
                        "audio_format": Path(pool.entries[0].audio).suffix.lstrip(".") or cfg.audio_format})
    keep = {k: v for k, v in pool.meta.items() if k not in ("tokenizer",)}
    return write_pool(pool.root, pool.style, list(_pool_items(pool)), cfg, TokenEncoder(tokenizer_dir), keep)
