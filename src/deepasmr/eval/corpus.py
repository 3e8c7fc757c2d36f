"""Measure a corpus manifest (ours: `deepasmr data synth`): is the ASMR style unvoiced, is each speaker
recognisable, is the speech intelligible? These are the corpus acceptance figures:

- global R_UV per language and style (frames pooled), also per source voice;
- speaker identification: for each (speaker, style), SIM of two of its utterances vs SIM of the first
  one to one utterance of every other speaker of the same language and style; the share of speakers
  for which the same-speaker SIM wins against all of them;
- WER (en) / CER (zh) per source voice and style, plain and capped.

Manifest rows need id, path (relative to the manifest's folder), text, language, speaker, style,
source_voice and split.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepasmr.errors import DataError
from deepasmr.eval.voicing import DEFAULT_VOICING, VoicingConfig, analyze_files, pool_ratios

NEEDED = ("id", "path", "text", "language", "speaker", "style", "source_voice", "split")


@dataclass(frozen=True)
class CorpusEvalConfig:
    split: str = "test"
    per_speaker_style: int = 4  # utterances per (speaker, style); keeps a run to minutes on 2 cores
    workers: int = 2
    asr: bool = True
    voicing: VoicingConfig = DEFAULT_VOICING


def read_rows(manifest: str | os.PathLike, split: str) -> list[dict]:
    manifest = Path(manifest)
    if not manifest.is_file():
        raise DataError(f"{manifest}: no such manifest")
    rows = []
    for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{manifest}:{n}: not JSON ({err})") from None
        missing = [k for k in NEEDED if k not in row]
        if missing:
            raise DataError(f"{manifest}:{n}: lacks {', '.join(missing)}")
        if row["split"] == split:
            rows.append({**row, "path": str(manifest.parent / row["path"])})
    if not rows:
        raise DataError(f"{manifest}: no rows in split {split!r}")
    return rows


def _sample(rows: list[dict], k: int) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["id"]):
        groups[row["speaker"], row["style"]].append(row)
    return [row for group in groups.values() for row in group[:k]]


def speaker_identification(rows: list[dict], embeddings: dict[str, np.ndarray]) -> dict:
    """Same-speaker-same-style SIM vs the best SIM to any other speaker (same language and style)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        if row["id"] in embeddings:
            groups[row["language"], row["style"], row["speaker"]].append(row)
    per_pair = []
    for (lang, style, spk), own in sorted(groups.items()):
        if len(own) < 2:
            continue
        anchor, same = embeddings[own[0]["id"]], embeddings[own[1]["id"]]
        others = [
            embeddings[g[0]["id"]] for (lg, st, sp), g in groups.items() if (lg, st) == (lang, style) and sp != spk
        ]
        if not others:
            continue
        same_sim = float(anchor @ same)
        best_other = float(max(anchor @ o for o in others))
        per_pair.append(
            {
                "language": lang,
                "style": style,
                "speaker": spk,
                "same": same_sim,
                "best_other": best_other,
                "wins": same_sim > best_other,
            }
        )
    out: dict = {"pairs": per_pair}
    for key in ("all", *sorted({(p["language"], p["style"]) for p in per_pair})):
        sel = [p for p in per_pair if key == "all" or (p["language"], p["style"]) == key]
        name = key if key == "all" else "/".join(key)
        if not sel:
            continue
        out[name] = {
            "n_speakers": len(sel),
            "share_wins": float(np.mean([p["wins"] for p in sel])),
            "mean_same": float(np.mean([p["same"] for p in sel])),
            "mean_best_other": float(np.mean([p["best_other"] for p in sel])),
        }
    return out


def evaluate_corpus(manifest: str | os.PathLike, config: CorpusEvalConfig = CorpusEvalConfig()) -> dict:
    from deepasmr.errors import AudioError
    from deepasmr.eval.asr import error_rate, get_backend, transcribe_file, utterance_errors
    from deepasmr.speaker.embedding import embed_file

    rows = _sample(read_rows(manifest, config.split), config.per_speaker_style)
    summaries = analyze_files([r["path"] for r in rows], config.voicing, config.workers)
    failures = {r["id"]: s for r, s in zip(rows, summaries, strict=True) if isinstance(s, str)}
    ok = [(r, s) for r, s in zip(rows, summaries, strict=True) if not isinstance(s, str)]

    voicing: dict = {}
    for label, key_fn in (
        ("by_language_style", lambda r: (r["language"], r["style"])),
        ("by_source_style", lambda r: (r["language"], r["source_voice"], r["style"])),
    ):
        groups = defaultdict(list)
        for r, s in ok:
            groups[key_fn(r)].append(s)
        voicing[label] = {"/".join(k): pool_ratios(v) for k, v in sorted(groups.items())}

    embeddings = {}
    for r, _ in ok:
        try:
            embeddings[r["id"]] = embed_file(r["path"])
        except AudioError as err:
            failures[r["id"]] = str(err)

    asr_rates: dict = {}
    if config.asr:
        groups = defaultdict(list)
        for r, _ in ok:
            hyp = transcribe_file(r["path"], r["language"], get_backend(None, r["language"]))
            groups[r["language"], r["source_voice"], r["style"]].append(utterance_errors(r["text"], hyp, r["language"]))
        asr_rates = {"/".join(k): error_rate(v) for k, v in sorted(groups.items())}

    return {
        "manifest": str(manifest),
        "split": config.split,
        "n_rows": len(rows),
        "n_speakers": len({r["speaker"] for r in rows}),
        "failures": failures,
        "voicing": voicing,
        "speaker_id": speaker_identification([r for r, _ in ok], embeddings),
        "asr": asr_rates,
    }


def render_corpus_markdown(result: dict) -> str:
    def pct(v):
        return "—" if v is None else f"{100 * v:.1f} %"

    lines = [
        f"# Corpus measurements: {result['manifest']} (split {result['split']}, {result['n_speakers']} "
        f"speakers, {result['n_rows']} utterances, {len(result['failures'])} failed)",
        "",
        "## Global R_UV",
        "",
        "| language/style | n | R_UV global | R_UV mean |",
        "|---|---|---|---|",
    ]
    for key, v in result["voicing"]["by_language_style"].items():
        lines.append(f"| {key} | {v['n_utterances']} | {pct(v['r_uv_global'])} | {pct(v['r_uv_mean'])} |")
    lines += ["", "| language/source/style | n | R_UV global |", "|---|---|---|"]
    for key, v in result["voicing"]["by_source_style"].items():
        lines.append(f"| {key} | {v['n_utterances']} | {pct(v['r_uv_global'])} |")
    lines += [
        "",
        "## Speaker identification (same-speaker SIM beats every other speaker)",
        "",
        "| group | speakers | share winning | mean same SIM | mean best other SIM |",
        "|---|---|---|---|---|",
    ]
    for key, v in result["speaker_id"].items():
        if key != "pairs":
            lines.append(
                f"| {key} | {v['n_speakers']} | {pct(v['share_wins'])} | {v['mean_same']:.3f} | "
                f"{v['mean_best_other']:.3f} |"
            )
    if result["asr"]:
        lines += [
            "",
            "## WER (en, tiny.en) / CER (zh, base)",
            "",
            "| language/source/style | n | rate | capped |",
            "|---|---|---|---|",
        ]
        for key, v in result["asr"].items():
            lines.append(f"| {key} | {v['n_utterances']} | {pct(v['rate'])} | {pct(v['rate_capped'])} |")
    return "\n".join(lines) + "\n"
