"""Pool builders: from the synthesised corpus (stratified over language x gender x pitch x rate, never
test-split speakers), from any folder of clips with .txt transcripts (the paper's "real pool" ablation), and
from the normal pool through an N2A `synthesize` hook (how the paper makes its ASMR pool)."""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from deepasmr.errors import DataError
from deepasmr.speaker.pool import (
    AUDIO_SUFFIXES,
    STYLES,
    UNKNOWN,
    PoolConfig,
    PoolEntry,
    Synthesize,
    TokenEncoder,
    load_pool,
    write_pool,
)

DEFAULT_CONFIG = PoolConfig()

# -- building from the corpus --------------------------------------------------------------------------------

def _rng(seed: int, *salt: str) -> np.random.Generator:
    # crc32, not hash(): str hashes are salted per process and would break determinism.
    return np.random.default_rng([seed, *(zlib.crc32(s.encode()) for s in salt)])


def speaker_order(speakers: dict[str, dict], seed: int) -> list[str]:
    """Speakers interleaved over (language, gender, pitch, rate) cells: one per cell per round, seeded."""
    rng = _rng(seed, "speakers")
    cells: dict[tuple, list[str]] = {}
    for sid in sorted(speakers):
        d = speakers[sid]
        cells.setdefault(tuple(d.get(k, UNKNOWN) for k in ("language", "gender", "pitch", "rate")), []).append(sid)
    keys = sorted(cells)
    queues = [list(rng.permutation(cells[keys[i]])) for i in rng.permutation(len(keys))]
    order = []
    while any(queues):
        for q in queues:
            if q:
                order.append(str(q.pop(0)))
    return order


def stratified_pick(rows: list[dict], speakers: dict[str, dict], style: str, cfg: PoolConfig) -> list[dict]:
    """cfg.per_style rows of `style`: every speaker (in `speaker_order`) gives one before any gives a second.
    The speaker order ignores the style, so both pools draw on the same virtual speakers first."""
    by_speaker: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["style"] == style and cfg.min_seconds <= r["duration"] <= cfg.max_seconds:
            by_speaker.setdefault(r["speaker"], []).append(r)
    queues = [[by_speaker[s][i] for i in _rng(cfg.seed, style, s).permutation(len(by_speaker[s]))]
              for s in speaker_order({s: speakers[s] for s in by_speaker}, cfg.seed)]
    picked: list[dict] = []
    while len(picked) < cfg.per_style and any(queues):
        for q in queues:
            if q and len(picked) < cfg.per_style:
                picked.append(q.pop(0))
    return picked


def _corpus_speakers(manifest: Path, rows: list[dict]) -> dict[str, dict]:
    """Descriptors from speakers.json beside the manifest (gender/pitch/rate); rows fill what it lacks."""
    listed = {}
    path = manifest.parent / "speakers.json"
    if path.is_file():
        try:
            listed = {d["id"]: d for d in json.loads(path.read_text(encoding="utf-8"))}
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise DataError(f"{path}: not a list of speaker descriptors ({err})") from None
    out = {}
    for r in rows:
        d = listed.get(r["speaker"], {})
        out[r["speaker"]] = {"language": r["language"], "gender": d.get("gender", r.get("gender", UNKNOWN)),
                             "pitch": d.get("pitch", UNKNOWN), "rate": d.get("rate", UNKNOWN)}
    return out


def build_from_corpus(manifest: str | os.PathLike, out: str | os.PathLike, cfg: PoolConfig = DEFAULT_CONFIG,
                      tokenizer: str | os.PathLike | None = None) -> dict[str, Path]:
    """Both pools from a synthesised corpus into `out`/{normal,asmr}; test-split speakers never enter."""
    from deepasmr.audio import load_audio
    from deepasmr.data.manifest import read_manifest

    if "test" in cfg.splits:
        raise DataError("pool speakers must not come from the test split (its voices are the evaluation's prompts)")
    manifest = Path(manifest)
    rows = read_manifest(manifest)
    test_speakers = {r["speaker"] for r in rows if r["split"] == "test"}
    rows = [r for r in rows if r["split"] in cfg.splits and r["speaker"] not in test_speakers]
    if not rows:
        raise DataError(f"{manifest}: no utterances from the {'/'.join(cfg.splits)} splits")
    speakers = _corpus_speakers(manifest, rows)
    encoder = TokenEncoder(tokenizer) if tokenizer else None
    written = {}
    for style in STYLES:
        picked = stratified_pick(rows, speakers, style, cfg)
        if not picked:
            raise DataError(f"{manifest}: no {style} utterances of {cfg.min_seconds}-{cfg.max_seconds} s to pool")

        def items(picked=picked):
            for r in picked:
                d = speakers[r["speaker"]]
                wav, sr = load_audio(manifest.parent / r["path"], trim=False)
                yield PoolEntry(id=r["id"], style=r["style"], language=r["language"], text=r["text"], audio="",
                                gender=d["gender"], pitch=d["pitch"], rate=d["rate"], speaker=r["speaker"],
                                source=r["id"]), wav, sr

        meta = {"source": {"kind": "corpus", "manifest": str(manifest), "splits": list(cfg.splits),
                           "excluded_test_speakers": len(test_speakers)},
                "config": asdict(cfg), "requested": cfg.per_style}
        written[style] = write_pool(Path(out) / style, style, items(), cfg, encoder, meta)
    return written


# -- building from a folder, or from the normal pool ---------------------------------------------------------

def folder_clips(folder: str | os.PathLike) -> tuple[list[tuple[str, Path, str]], list[Path]]:
    """(id, audio, transcript) for every clip with a same-name non-empty .txt, and the clips without one."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    found, lacking, ids = [], [], set()
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()):
        txt = path.with_suffix(".txt")
        text = txt.read_text(encoding="utf-8").strip() if txt.is_file() else ""
        if not text:
            lacking.append(path)
            continue
        base = "_".join(path.relative_to(root).with_suffix("").parts)
        cid, n = base, 1
        while cid in ids:  # same stem with two audio suffixes
            cid, n = f"{base}-{n}", n + 1
        ids.add(cid)
        found.append((cid, path, " ".join(text.split())))
    return found, lacking


def build_from_folder(folder: str | os.PathLike, out: str | os.PathLike, cfg: PoolConfig = DEFAULT_CONFIG,
                      style: str | None = None, language: str | None = None,
                      tokenizer: str | os.PathLike | None = None) -> dict[str, Path]:
    """Pools from any folder of clips + .txt transcripts; each clip's style is its R_UV verdict unless given."""
    from deepasmr.audio import load_audio
    from deepasmr.eval.voicing import analyze_voicing
    from deepasmr.frontend.language import detect_language

    if style is not None and style not in STYLES:
        raise DataError(f"style {style!r} is not one of {STYLES}")
    clips, lacking = folder_clips(folder)
    if not clips:
        raise DataError(f"{folder}: no audio clips with a same-name .txt transcript ({len(lacking)} without)")
    by_style: dict[str, list] = {s: [] for s in STYLES}
    for cid, path, text in clips:
        wav, sr = load_audio(path, trim=False)
        r_uv = None
        clip_style = style
        if clip_style is None:
            summary = analyze_voicing(wav, sr)
            if summary.style not in STYLES:
                raise DataError(f"{path}: cannot tell its style (no active frames); pass --style")
            clip_style, r_uv = summary.style, round(summary.r_uv, 4)
        lang = language or detect_language(text)
        entry = PoolEntry(id=cid, style=clip_style, language=lang, text=text, audio="", speaker=cid,
                          source=str(path), r_uv=r_uv)
        by_style[clip_style].append((entry, wav, sr))
    encoder = TokenEncoder(tokenizer) if tokenizer else None
    meta = {"source": {"kind": "folder", "folder": str(folder), "skipped_without_transcript": len(lacking),
                       "style": style or "detected (R_UV verdict)"}, "config": asdict(cfg)}
    return {s: write_pool(Path(out) / s, s, items, cfg, encoder, meta) for s, items in by_style.items() if items}


def build_from_normal(pools_dir: str | os.PathLike, synthesize: Synthesize, cfg: PoolConfig = DEFAULT_CONFIG,
                      tokenizer: str | os.PathLike | None = None) -> Path:
    """The paper's ASMR pool: N2A over every normal-pool entry (its own text, its clip as the voice)."""
    from deepasmr.eval.voicing import analyze_voicing

    normal = load_pool(Path(pools_dir) / "normal")
    items, dropped = [], []
    for e in normal.entries:
        wav, sr = synthesize(e.text, normal.audio_path(e), "asmr")
        r_uv = None
        if cfg.check_bootstrap_style:
            summary = analyze_voicing(np.asarray(wav, dtype=np.float32), sr)
            r_uv = round(summary.r_uv, 4)
            if summary.style != "asmr":
                dropped.append(e.id)
                continue
        d = {**e.to_dict(), "id": f"{e.id}-n2a", "style": "asmr", "audio": "", "tokens": None, "source": e.id}
        items.append((PoolEntry(**{**d, "r_uv": r_uv}), wav, sr))
    if not items:
        raise DataError(f"{pools_dir}: N2A made no ASMR-style clip from the {len(normal.entries)} normal entries")
    meta = {"source": {"kind": "n2a-bootstrap", "normal_pool": str(normal.root), "dropped_not_asmr": dropped},
            "config": asdict(cfg)}
    return write_pool(Path(pools_dir) / "asmr", "asmr", items, cfg, TokenEncoder(tokenizer) if tokenizer else None,
                      meta)
