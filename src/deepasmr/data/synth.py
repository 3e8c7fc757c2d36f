"""`deepasmr data synth`: plan the corpus, render speakers in parallel, write the manifest.

Layout of the output folder:
  wavs/<speaker>/<id>.wav   22.05 kHz mono 16-bit
  parts/<speaker>.jsonl     a finished speaker's rows (written atomically when the speaker is done)
  manifest.jsonl            all rows, written atomically at the end (rebuildable from parts/)
  plan.sha256               fingerprint of the plan; resuming into a differently planned folder is refused
  splits.json               speaker -> split;  speakers.json  speaker descriptors;  corpus.json  config+stats
A rerun skips speakers whose part is complete and, within a speaker, wav files already written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

from deepasmr.data.manifest import read_manifest, write_jsonl, write_text_atomic
from deepasmr.data.plan import SynthConfig, plan_corpus
from deepasmr.data.render import SpeakerJob, render_speaker
from deepasmr.errors import DataError


def _phonemes(plan: dict, speakers) -> dict[str, str]:
    """Space-joined phones of every planned text, one batched espeak call per language."""
    from deepasmr.frontend import phonemize_batch

    lang_of = {s.id: s.language for s in speakers}
    texts: dict[str, set[str]] = {}
    for sid, utts in plan.items():
        texts.setdefault(lang_of[sid], set()).update(u.text for u in utts)
    out = {}
    for lang, items in texts.items():
        ordered = sorted(items)
        for text, phones in zip(ordered, phonemize_batch(ordered, lang, normalize=False), strict=True):
            out[(lang, text)] = " ".join(phones)
    return out


def _part_done(part: Path, utts) -> bool:
    if not part.is_file():
        return False
    try:
        rows = [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError:
        return False
    return [r.get("id") for r in rows] == [u.id for u in utts]


def rebuild_manifest(out_dir: str | Path, speaker_order: list[str] | None = None) -> Path:
    """Write manifest.jsonl from the finished parts (all of them, or `speaker_order`'s, in that order)."""
    out = Path(out_dir)
    parts_dir = out / "parts"
    names = speaker_order if speaker_order is not None else sorted(p.stem for p in parts_dir.glob("*.jsonl"))
    rows = []
    for name in names:
        part = parts_dir / f"{name}.jsonl"
        if part.is_file():
            rows += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise DataError(f"{out}: no finished speakers under parts/")
    manifest = out / "manifest.jsonl"
    write_jsonl(manifest, rows)
    read_manifest(manifest)  # validates every row
    return manifest


def _check_plan(out: Path, plan: dict, cfg: SynthConfig) -> None:
    """Refuse to resume into a folder planned differently: existing wavs would not match their text."""
    digest = hashlib.sha256()
    for utts in plan.values():
        for u in utts:
            digest.update(f"{u.id}\t{u.text}\n".encode())
    digest.update(repr((cfg.sample_rate, cfg.delivery, cfg.world)).encode())
    stamp = out / "plan.sha256"
    if stamp.is_file() and stamp.read_text().strip() != digest.hexdigest():
        raise DataError(f"{out} was built from a different plan (other seed, size, speakers or code "
                        "version); use a new --out folder")
    write_text_atomic(stamp, digest.hexdigest() + "\n")


def run_synth(out_dir: str | Path, cfg: SynthConfig, progress: bool = True) -> Path:
    """Build (or finish) the corpus in `out_dir`; returns the manifest path."""
    from multiprocessing import get_context

    import pyworld  # noqa: F401
    import soxr  # noqa: F401
    from tqdm import tqdm

    # Heavy imports happen once here; forked workers inherit them instead of paying seconds each.
    import deepasmr.audio  # noqa: F401

    out = Path(out_dir)
    (out / "parts").mkdir(parents=True, exist_ok=True)
    speakers, plan, splits = plan_corpus(cfg)
    _check_plan(out, plan, cfg)
    phones = _phonemes(plan, speakers)
    jobs = [
        SpeakerJob(s.id, tuple(plan[s.id]), tuple(phones[(s.language, u.text)] for u in plan[s.id]),
                   splits[s.id], str(out), cfg)
        for s in speakers
        if not _part_done(out / "parts" / f"{s.id}.jsonl", plan[s.id])
    ]
    # Festival voices are the slowest: start them first so the pool does not idle at the end.
    jobs.sort(key=lambda j: j.speaker.split("-")[1] != "fe")
    start, seconds, cpu0 = time.time(), 0.0, os.times()
    bar = tqdm(total=len(jobs), unit="spk", desc="synth", disable=not progress)
    with get_context("fork").Pool(max(1, cfg.jobs)) as pool:
        for rows in pool.imap_unordered(render_speaker, jobs):
            write_jsonl(out / "parts" / f"{rows[0]['speaker']}.jsonl", rows)
            seconds += sum(r["duration"] for r in rows)
            bar.update(1)
            bar.set_postfix(audio_h=f"{seconds / 3600:.2f}")
        pool.close()
        pool.join()  # reaped workers' CPU time then shows in os.times().children_*
    bar.close()
    cpu1 = os.times()
    worker_cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    manifest = rebuild_manifest(out, [s.id for s in speakers])
    write_text_atomic(out / "splits.json", json.dumps(splits, indent=1, sort_keys=True) + "\n")
    write_text_atomic(out / "speakers.json", json.dumps([s.describe() for s in speakers], indent=1) + "\n")
    info = {"config": dataclasses.asdict(cfg), "wall_seconds_last_run": round(time.time() - start, 1),
            "audio_seconds_rendered_last_run": round(seconds, 1),
            # Worker + synthesizer CPU time: speed on a shared machine is audio per CPU second.
            "child_cpu_seconds_last_run": round(worker_cpu, 1)}
    write_text_atomic(out / "corpus.json", json.dumps(info, indent=1, default=str) + "\n")
    return manifest
