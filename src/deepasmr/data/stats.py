"""Corpus statistics from a manifest: speakers, utterances, hours and distinct sentences per
language / style / split, and how many speakers say the same sentence in both styles."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from deepasmr.data.manifest import read_manifest


def corpus_stats(manifest: str | Path) -> dict:
    rows = read_manifest(manifest)
    stats: dict = {"utterances": len(rows), "hours": round(sum(r["duration"] for r in rows) / 3600, 3)}
    per_lang: dict = {}
    for lang in sorted({r["language"] for r in rows}):
        sub = [r for r in rows if r["language"] == lang]
        hours: dict = defaultdict(float)
        for r in sub:
            hours[f"{r['style']}/{r['split']}"] += r["duration"] / 3600
        styles_of = defaultdict(set)
        for r in sub:
            styles_of[(r["speaker"], r["text"])].add(r["style"])
        speakers = {r["speaker"] for r in sub}
        paired = {spk for (spk, _), st in styles_of.items() if len(st) == 2}
        per_lang[lang] = {
            "speakers": len(speakers),
            "speakers_per_split": {s: len({r["speaker"] for r in sub if r["split"] == s})
                                   for s in ("train", "dev", "test")},
            "genders": {g: len({r["speaker"] for r in sub if r["gender"] == g}) for g in
                        sorted({r["gender"] for r in sub})},
            "speakers_with_both_styles": len({r["speaker"] for r in sub if r["style"] == "asmr"}
                                             & {r["speaker"] for r in sub if r["style"] == "normal"}),
            "speakers_with_same_sentence_in_both_styles": len(paired),
            "utterances": {s: sum(r["style"] == s for r in sub) for s in ("normal", "asmr")},
            "hours": {k: round(v, 3) for k, v in sorted(hours.items())},
            "hours_total": round(sum(hours.values()), 3),
            "distinct_sentences": len({r["text"] for r in sub}),
            "mean_duration_s": round(sum(r["duration"] for r in sub) / max(len(sub), 1), 2),
        }
    stats["languages"] = per_lang
    return stats


def format_stats(stats: dict) -> str:
    lines = [f"{stats['utterances']} utterances, {stats['hours']} h"]
    for lang, s in stats["languages"].items():
        lines.append(
            f"{lang}: {s['speakers']} speakers {s['speakers_per_split']} {s['genders']}, "
            f"{s['utterances']} utts, {s['hours_total']} h, {s['distinct_sentences']} distinct sentences, "
            f"paired speakers {s['speakers_with_same_sentence_in_both_styles']}"
        )
        lines.append("    hours " + ", ".join(f"{k}={v}" for k, v in s["hours"].items()))
    return "\n".join(lines)
