"""Evaluate generated audio against a test set in the paper's JSON format.

A test set is a JSON array of {"key", "transcription", "prompt_transcription", "prompt_audio",
"ground_truth"} with audio paths relative to a corpus root; the system's output for an entry is
`<generated>/<key>.wav`. Every metric of the generated audio is reported beside the same metric of the
ground truth over the same entries (cross-style SIM has a low ceiling even for the real speaker).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepasmr.data.testsets import TASKS as TASK_STYLES
from deepasmr.errors import AudioError, DataError
from deepasmr.eval.voicing import (
    DEFAULT_VOICING,
    GROSS_PITCH_ERROR,
    VoicingConfig,
    VoicingSummary,
    analyze_files,
    pool_ratios,
    style_verdict,
)

REQUIRED_KEYS = ("key", "transcription", "prompt_audio", "ground_truth")
TASKS = tuple(TASK_STYLES)
SYSTEMS = ("generated", "ground_truth")


@dataclass(frozen=True)
class EvalConfig:
    language: str = "en"
    asr_model: str | None = None  # None: the shipped default for the language (tiny.en / base)
    workers: int = 2  # processes for PYIN, the slow part
    voicing: VoicingConfig = field(default=DEFAULT_VOICING)
    generated_name: str = "{key}.wav"
    phone_reader: str | None = None  # tokenizer folder: also the phone error rate its CTC head reads


def load_testset(path: str | os.PathLike) -> list[dict]:
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such test set") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a JSON test set ({err})") from None
    if not isinstance(entries, list) or not entries:
        raise DataError(f"{path}: a test set is a non-empty JSON array of entries")
    seen = set()
    for i, entry in enumerate(entries):
        missing = [k for k in REQUIRED_KEYS if not isinstance(entry, dict) or not entry.get(k)]
        if missing:
            raise DataError(f"{path}: entry {i} lacks {', '.join(missing)}")
        key = str(entry["key"])
        if key in seen:
            raise DataError(f"{path}: duplicate key {key!r}")
        seen.add(key)
    return entries


def task_name(path: str | os.PathLike) -> str:
    """'CHAINs_N2A_testset.json' -> 'N2A'; otherwise the file stem."""
    match = re.search(r"(?<![A-Z0-9])(" + "|".join(TASKS) + r")(?![A-Z0-9])", Path(path).name)
    return match.group(1) if match else Path(path).stem


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else None


def pitch_off_share(rows: list[dict], config: VoicingConfig = DEFAULT_VOICING) -> float | None:
    """Share of voiced targets whose output's median F0 is more than GROSS_PITCH_ERROR off the ground truth's.
    R_UV cannot see a vocoder that voices every frame at the wrong pitch; this can. Whispered targets (style
    asmr by R_UV) have no meaningful pitch and are left out; None when no target is voiced."""
    pairs = [(r["generated_metrics"]["f0_median_hz"], r["ground_truth_metrics"]["f0_median_hz"]) for r in rows
             if style_verdict(r["ground_truth_metrics"]["r_uv"], config) == "normal"]
    off = [abs(g / t - 1) > GROSS_PITCH_ERROR if g else True for g, t in pairs if t]  # no voiced output: off
    return float(np.mean(off)) if off else None


def evaluate_testset(
    testset: str | os.PathLike,
    audio_root: str | os.PathLike,
    generated_dir: str | os.PathLike,
    config: EvalConfig = EvalConfig(),
    *,
    task: str | None = None,
    backend=None,
) -> dict:
    """All metrics for one task. Missing or unreadable generated files are counted and skipped."""
    from deepasmr.eval.asr import error_rate, get_backend, transcribe_file, unit_for, utterance_errors
    from deepasmr.speaker.embedding import cosine, embed_file

    entries = load_testset(testset)
    root, gen_dir = Path(audio_root), Path(generated_dir)
    missing, problems, rows = [], [], []
    for entry in entries:
        key = str(entry["key"])
        gen = gen_dir / config.generated_name.format(key=key)
        if not gen.is_file():
            missing.append(key)
            continue
        rows.append(
            {
                "key": key,
                "text": entry["transcription"],
                "generated": str(gen),
                "ground_truth": str(root / entry["ground_truth"]),
                "prompt": str(root / entry["prompt_audio"]),
            }
        )

    # Voicing for both systems in one process pool.
    paths = [r[s] for r in rows for s in SYSTEMS]
    voicing = dict(zip(paths, analyze_files(paths, config.voicing, config.workers), strict=True))
    embeddings: dict[str, np.ndarray | str] = {}

    def embedding(path: str):
        if path not in embeddings:  # prompts repeat across entries
            try:
                embeddings[path] = embed_file(path)
            except AudioError as err:
                embeddings[path] = str(err) if path in str(err) else f"{path}: {err}"
        return embeddings[path]

    asr = backend or get_backend(config.asr_model, config.language)
    reader = None
    if config.phone_reader:
        from deepasmr.eval.phones import PhoneReader, phone_error_rate, phone_errors

        reader = PhoneReader(config.phone_reader)
    kept = []
    for row in rows:
        emb = {s: embedding(row[s]) for s in (*SYSTEMS, "prompt")}
        results = [voicing[row[s]] for s in SYSTEMS] + list(emb.values())
        bad = list(dict.fromkeys(r for r in results if isinstance(r, str)))  # one line per distinct failure
        if bad:
            problems.append({"key": row["key"], "errors": bad})
            continue
        for s in SYSTEMS:
            summary: VoicingSummary = voicing[row[s]]
            hyp = transcribe_file(row[s], config.language, asr)
            row[s + "_metrics"] = {
                "r_uv": summary.r_uv,
                "n_active": summary.n_active,
                "n_unvoiced": summary.n_unvoiced,
                "f0_median_hz": summary.f0_median_hz,
                "sim_to_prompt": cosine(emb[s], emb["prompt"]),
                "sim_to_ground_truth": cosine(emb[s], emb["ground_truth"]),
                "asr_text": hyp,
                **utterance_errors(row["text"], hyp, config.language),
            }
            if reader is not None:
                reference = reader.reference(row["text"], config.language)
                row[s + "_metrics"].update(phone_errors(reader.phones_of_file(row[s]), reference))
        kept.append(row)

    systems = {}
    for s in SYSTEMS:
        metrics = [r[s + "_metrics"] for r in kept]
        summaries = [voicing[r[s]] for r in kept]
        rates = error_rate(metrics)
        systems[s] = {
            **pool_ratios(summaries),
            "sim_to_prompt": _mean([m["sim_to_prompt"] for m in metrics]),
            "sim_to_ground_truth": _mean([m["sim_to_ground_truth"] for m in metrics]) if s == "generated" else None,
            "pitch_off_gt": pitch_off_share(kept, config.voicing) if s == "generated" else None,
            "error_rate": rates["rate"],
            "error_rate_capped": rates["rate_capped"],
            "n_ref_units": rates["n_ref_units"],
            "style_asmr_share": _mean([float(v.style == "asmr") for v in summaries]),
            "phone_error_rate": phone_error_rate(metrics) if reader is not None else None,
        }
    return {
        "task": task or task_name(testset),
        "testset": str(testset),
        "generated_dir": str(gen_dir),
        "language": config.language,
        "unit": unit_for(config.language),
        "asr_model": getattr(asr, "name", type(asr).__name__),
        "phone_reader": config.phone_reader,
        "n_entries": len(entries),
        "n_evaluated": len(kept),
        "n_missing": len(missing),
        "missing_keys": missing,
        "n_failed": len(problems),
        "failures": problems,
        "systems": systems,
        "utterances": kept,
    }
