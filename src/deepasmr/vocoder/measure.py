"""Measure copy-synthesis: does mel -> vocoder keep the words (WER) and the phonation (R_UV)?

Two sources of utterances:
- `--corpus DIR`: a corpus manifest (DIR/manifest.jsonl), its split=="test" utterances, grouped by style;
- otherwise clips synthesised here: espeak-ng en-us (normal), espeak-ng en-us+whisper (whisper),
  flite slt/awb/rms/kal16 (normal), and WORLD pseudo-whisper of the flite voices (pyworld analysis,
  F0 = 0 and aperiodicity = 1 everywhere: the voice's own envelope, no vocal-fold excitation).

For each group: WER (faster-whisper tiny.en, English only) and global R_UV (PYIN over active frames,
`deepasmr.eval`) of the originals beside the same numbers for their copy-synthesis, and whether the copy
keeps the original's pitch (gross pitch error rate over frames voiced in both, `eval.voicing.pitch_agreement`).

    python -m deepasmr.vocoder.measure [--corpus corpus/small] [--limit 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "Four hours of steady work faced us.",
)
NORMAL_VOICES = {
    "espeak": ["espeak-ng", "-v", "en-us", "-w", "{out}", "{text}"],
    "flite_slt": ["flite", "-voice", "slt", "-t", "{text}", "-o", "{out}"],
    "flite_awb": ["flite", "-voice", "awb", "-t", "{text}", "-o", "{out}"],
    "flite_rms": ["flite", "-voice", "rms", "-t", "{text}", "-o", "{out}"],
    "flite_kal16": ["flite", "-voice", "kal16", "-t", "{text}", "-o", "{out}"],
}
WHISPER_VOICES = {"espeak_whisper": ["espeak-ng", "-v", "en-us+whisper", "-w", "{out}", "{text}"]}
WORLD_WHISPER_OF = ("flite_slt", "flite_awb", "flite_rms", "flite_kal16")


@dataclass(frozen=True)
class MeasureTargets:
    """Issue 5's bar for copy-synthesis."""

    max_wer_ratio: float = 1.2
    max_r_uv_shift: float = 0.05


def world_whisper(wav: np.ndarray, sr: int) -> np.ndarray:
    """Resynthesise with F0 = 0 and aperiodicity = 1: WORLD then excites the envelope with noise only."""
    import pyworld

    x = wav.astype(np.float64)
    f0, t = pyworld.harvest(x, sr)
    envelope = pyworld.cheaptrick(x, f0, t, sr)
    aperiodicity = np.ones_like(envelope)
    out = pyworld.synthesize(np.zeros_like(f0), envelope, aperiodicity, sr)
    return (out / max(np.abs(out).max(), 1e-9) * np.abs(wav).max()).astype(np.float32)


def synthesized_items(folder: Path) -> list[dict]:
    """{path, text, group, style} for every available synthesizer x sentence."""
    from deepasmr.audio import load_audio, save_audio

    items = []
    for voices, style in ((NORMAL_VOICES, "normal"), (WHISPER_VOICES, "asmr")):
        for voice, cmd in voices.items():
            if shutil.which(cmd[0]) is None:
                continue
            for i, text in enumerate(SENTENCES):
                path = folder / f"{voice}_{i}.wav"
                subprocess.run([c.format(out=path, text=text) for c in cmd], check=True, capture_output=True)
                items.append({"path": path, "text": text, "group": voice, "style": style})
    for voice in WORLD_WHISPER_OF:
        for item in [it for it in items if it["group"] == voice]:
            wav, sr = load_audio(item["path"], trim=False)
            path = folder / f"world_{item['path'].name}"
            save_audio(path, world_whisper(wav, sr), sr)
            items.append({"path": path, "text": item["text"], "group": f"world_{voice}", "style": "asmr"})
    return items


def corpus_items(corpus: Path, limit: int) -> list[dict]:
    """Test-split utterances of a corpus manifest, at most `limit` per (language, style), spread over speakers."""
    rows = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines() if line.strip()]
    rows = sorted((r for r in rows if r.get("split") == "test"), key=lambda r: (r["speaker"], r["id"]))
    by_group: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_group[f"{r['language']}_{r['style']}"].append(r)
    items = []
    for group, members in sorted(by_group.items()):
        step = max(1, len(members) // limit)
        for r in members[::step][:limit]:
            items.append(
                {"path": corpus / r["path"], "text": r["text"], "group": group, "style": r["style"],
                 "language": r["language"]}
            )
    return items


def measure(items: list[dict], vocoder, out_dir: Path | None = None, drive_f0: str | None = None) -> dict:
    from deepasmr.audio import load_audio, resample, save_audio
    from deepasmr.eval.asr import ASR_SAMPLE_RATE, get_backend, utterance_errors
    from deepasmr.eval.voicing import pitch_agreement, voicing_track
    from deepasmr.vocoder.copysynth import copy_synthesize, mel_l1

    per_group: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        wav, sr = load_audio(item["path"], vocoder.sample_rate, trim=False)
        out = copy_synthesize(wav, vocoder, item["style"], drive_f0=drive_f0 if item["style"] == "normal" else None)
        if out_dir is not None:
            save_audio(out_dir / f"{item['group']}_{Path(item['path']).stem}.wav", out, sr)
        language = item.get("language", "en")
        rec = per_group[item["group"]]
        rec["mel_l1"].append(mel_l1(wav, out, vocoder.mel_config))
        tracks = {}
        for tag, audio in (("orig", wav), ("copy", out)):
            tracks[tag] = voicing_track(audio, sr)
            rec[f"voicing_{tag}"].append(tracks[tag].summary())
            if language == "en":
                hyp = get_backend(None, "en").transcribe(resample(audio, sr, ASR_SAMPLE_RATE), "en")
                rec[f"asr_{tag}"].append(utterance_errors(item["text"], hyp, "en"))
        rec["pitch"].append(pitch_agreement(tracks["orig"], tracks["copy"]))
        rec["style"] = item["style"]
        rec["paths"].append(str(item["path"]))
    return {group: _summarise(rec) for group, rec in sorted(per_group.items())}


def _summarise(rec: dict) -> dict:
    from deepasmr.eval.asr import error_rate
    from deepasmr.eval.voicing import pool_ratios

    out = {"style": rec["style"], "n": len(rec["mel_l1"]), "mel_l1": float(np.mean(rec["mel_l1"]))}
    frames, gross = sum(p.n_frames for p in rec["pitch"]), sum(p.n_gross for p in rec["pitch"])
    out["pitch_frames"] = (gross, frames)
    out["gpe"] = gross / frames if frames else None
    for tag in ("orig", "copy"):
        pooled = pool_ratios(rec[f"voicing_{tag}"])
        out[f"r_uv_{tag}"] = pooled["r_uv_global"]
        out[f"frames_{tag}"] = (pooled["n_unvoiced_frames"], pooled["n_active_frames"])
        if rec.get(f"asr_{tag}"):
            rates = error_rate(rec[f"asr_{tag}"])
            out[f"wer_{tag}"], out[f"wer_capped_{tag}"] = rates["rate"], rates["rate_capped"]
            out[f"errors_{tag}"] = (
                sum(r["errors"] for r in rec[f"asr_{tag}"]),
                sum(r["errors_capped"] for r in rec[f"asr_{tag}"]),
                rates["n_ref_units"],
            )
    if rec.get("asr_orig"):
        # Per utterance, so the clips whose copy sets the ASR looping (raw >> capped errors) can be named.
        out["utterances"] = [
            {"path": path, "n_ref": o["n_ref"], "errors_orig": o["errors"], "errors_copy": c["errors"],
             "hyp_orig": o["hyp"], "hyp_copy": c["hyp"]}
            for path, o, c in zip(rec["paths"], rec["asr_orig"], rec["asr_copy"], strict=True)
        ]
    return out


def pool_by_style(results: dict) -> dict:
    """Per style over all its groups: global R_UV (frames pooled) and WER (errors pooled)."""
    styles: dict[str, list[dict]] = defaultdict(list)
    for res in results.values():
        styles[res["style"]].append(res)
    pooled = {}
    for style, groups in styles.items():
        n = sum(g["n"] for g in groups)
        entry = {"style": style, "n": n, "mel_l1": sum(g["mel_l1"] * g["n"] for g in groups) / n}
        gross, frames = (sum(g["pitch_frames"][i] for g in groups) for i in range(2))
        entry["gpe"] = gross / frames if frames else None
        for tag in ("orig", "copy"):
            unvoiced, active = (sum(g[f"frames_{tag}"][i] for g in groups) for i in range(2))
            entry[f"r_uv_{tag}"] = unvoiced / active if active else None
            scored = [g[f"errors_{tag}"] for g in groups if f"errors_{tag}" in g]
            n_ref = sum(e[2] for e in scored)
            if n_ref:
                entry[f"wer_{tag}"] = sum(e[0] for e in scored) / n_ref
                entry[f"wer_capped_{tag}"] = sum(e[1] for e in scored) / n_ref
        pooled[style] = entry
    return pooled


def verdict(entry: dict, targets: MeasureTargets = MeasureTargets()) -> str:
    notes = []
    if entry.get("wer_orig") is not None:
        ok = entry["wer_copy"] <= targets.max_wer_ratio * entry["wer_orig"]
        notes.append(f"WER {'ok' if ok else 'MISS'}")
    shift = abs(entry["r_uv_copy"] - entry["r_uv_orig"])
    notes.append(f"R_UV {'ok' if shift <= targets.max_r_uv_shift else 'MISS'}")
    return ", ".join(notes)


def _fmt(v) -> str:
    return "-" if v is None else f"{100 * v:6.1f}"


def print_table(results: dict, pooled: dict) -> None:
    print(f"{'group':28s} {'n':>3s} {'WER orig':>8s} {'WER copy':>8s} {'R_UV orig':>9s} {'R_UV copy':>9s} "
          f"{'GPE':>6s} {'L1':>5s}")
    rows = [(k, v) for k, v in results.items()] + [(f"ALL {k}", v) for k, v in pooled.items()]
    for name, r in rows:
        print(
            f"{name:28s} {r['n']:3d} {_fmt(r.get('wer_orig')):>8s} {_fmt(r.get('wer_copy')):>8s} "
            f"{_fmt(r['r_uv_orig']):>9s} {_fmt(r['r_uv_copy']):>9s} {_fmt(r.get('gpe')):>6s} {r['mel_l1']:5.3f}"
            + (f"  {verdict(r)}" if name.startswith("ALL") else "")
        )


def main(argv: list[str] | None = None) -> int:
    import torch

    from deepasmr.errors import DeepASMRError
    from deepasmr.vocoder import VocoderConfig, load_vocoder

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, help="corpus folder with manifest.jsonl (uses split=test)")
    p.add_argument("--limit", type=int, default=30, help="utterances per (language, style) from a corpus")
    p.add_argument("--kind", default="hifigan")
    p.add_argument("--weights", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--save", type=Path, help="also write the copy-synthesised wavs here")
    p.add_argument("--json", type=Path, help="write the figures as JSON")
    p.add_argument("--styles", nargs="+", choices=("normal", "asmr"), default=("normal", "asmr"),
                   help="only these styles' utterances")
    p.add_argument("--drive-f0", choices=("pyin", "world"),
                   help="normal speech: drive a vocoder with a pitch head by the clip's own F0 and voicing from this "
                        "tracker, as the bundle drives its normal-speech vocoder by the F0 its decoder was told")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        vocoder = load_vocoder(VocoderConfig(kind=args.kind, weights=args.weights))
    except DeepASMRError as err:
        p.error(str(err))
    with tempfile.TemporaryDirectory() as tmp:
        items = corpus_items(args.corpus, args.limit) if args.corpus else synthesized_items(Path(tmp))
        items = [it for it in items if it["style"] in args.styles]
        results = measure(items, vocoder, args.save, drive_f0=args.drive_f0)
    pooled = pool_by_style(results)
    print_table(results, pooled)
    if args.json:
        args.json.write_text(json.dumps({"groups": results, "styles": pooled}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
