"""Batch synthesis: one audio file per line of a text file, spread over N processes by the training engine.

The same engine as training (deepasmr.train): Lightning's predict loop, `strategy="ddp"` over `devices` CPU
processes (gloo) — Lightning's launcher re-runs the command once per extra rank, so each process loads the
model itself. Every non-blank line is one job, named `<line number>-<key>.wav` in the output folder, where the
key hashes the line's text and every setting that changes its audio (style, voice clip bytes, seed, steps,
language, prompt, iterations, model folder).

- Exactly once: line i belongs to rank i mod world_size (no sampler padding, no two ranks on a line), and a
  line whose output already exists is skipped — so a killed or repeated run resumes where it stopped.
- Atomic: audio is written to a temp file and renamed (deepasmr.audio.save_audio); each rank appends one row
  per line it handled to its own log, `.batch/rank<r>.jsonl`, after the audio is in place.
- Manifest: when every rank is done, rank 0 writes `manifest.jsonl`, one row per line in file order:
  status "ok" (output, task, seconds, notes; `reused` when written by an earlier run) or "error" (the reason;
  a bad line never stops the batch), or "missing" (a process stopped before reaching it). Failed lines are
  tried again by the next run; finished ones are not.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from lightning.pytorch import LightningModule

from deepasmr.atomic import write_text_atomic
from deepasmr.errors import DataError, DeepASMRError

LOG_DIR = ".batch"
MANIFEST = "manifest.jsonl"
KEY_CHARS = 10
# Log fields that describe one run's bookkeeping rather than the line; left out of the manifest.
_LOG_ONLY = ("stem", "time", "pid")


@dataclass(frozen=True)
class BatchJob:
    """The settings every line of a batch shares (the `speak` options)."""

    voice: str
    style: str = "asmr"
    lang: str | None = None
    prompt_text: str | None = None
    prompt_style: str | None = None
    seed: int | None = None  # line n is synthesised with seed + n (the same audio at any world size)
    steps: int | None = None
    iterations: int = 1
    model: str | None = None
    precision: str = "auto"  # the LM's and flow decoder's (deepasmr.precision)
    candidates: int | None = None  # LM token samples per sentence (None: the pipeline's default)
    phone_guidance: float | None = None  # the flow's phone guidance (None: the model's)


def read_lines(path: str | os.PathLike) -> list[tuple[int, str]]:
    """(1-based line number, text) of every non-blank line; DataError when the file cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such lines file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as err:
        raise DataError(f"{path}: not a readable UTF-8 text file ({err})") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise DataError(f"{path}: no lines to speak (one text per line; blank lines are skipped)")
    return lines


def line_seed(job: BatchJob, number: int) -> int | None:
    return None if job.seed is None else job.seed + number


def plan(lines: list[tuple[int, str]], job: BatchJob, voice_sha: str, model_root: str) -> list[dict]:
    """One item per line: {"line", "text", "stem"}; the stem changes whenever the line's audio would."""
    items = []
    for number, text in lines:
        settings = {**asdict(job), "seed": line_seed(job, number), "voice": voice_sha, "model": model_root,
                    "text": text}
        key = hashlib.sha256(json.dumps(settings, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        items.append({"line": number, "text": text, "stem": f"{number:05d}-{key[:KEY_CHARS]}"})
    return items


def shard(items: list, rank: int, world_size: int) -> list:
    """Rank `rank`'s share: every world_size-th item. Disjoint and complete over the ranks, unpadded."""
    return items[rank::world_size]


class LineWriter:
    """Synthesises one line and records it (the work of one rank)."""

    def __init__(self, engine, job: BatchJob, out_dir: Path, prompt_style: str | None, notes: tuple[str, ...] = ()):
        self.engine, self.job, self.out_dir, self.prompt_style = engine, job, out_dir, prompt_style
        self.notes = list(notes)  # batch-level notes, added to every line's

    def log_path(self, rank: int) -> Path:
        return self.out_dir / LOG_DIR / f"rank{rank}.jsonl"

    def _append(self, rank: int, row: dict) -> None:
        path = self.log_path(rank)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def __call__(self, item: dict, rank: int) -> dict:
        from deepasmr.audio import save_audio

        out = self.out_dir / f"{item['stem']}.wav"
        if out.is_file():
            return {"line": item["line"], "status": "skipped"}
        job, start = self.job, time.perf_counter()
        row = {"line": item["line"], "text": item["text"], "stem": item["stem"], "rank": rank, "pid": os.getpid()}
        try:
            result = self.engine.speak_detailed(
                item["text"], job.voice, job.style, prompt_text=job.prompt_text, prompt_style=self.prompt_style,
                lang=job.lang, seed=line_seed(job, item["line"]), steps=job.steps, iterations=job.iterations)
            save_audio(out, result.wav, result.sample_rate)
            row.update(status="ok", output=out.name, task=result.task, language=result.language,
                       seconds=round(result.wav.size / result.sample_rate, 3), sentences=len(result.sentences),
                       notes=self.notes + result.notes)
        except DeepASMRError as err:  # a bad line: say why, go on with the next
            row.update(status="error", error=str(err), error_type=type(err).__name__)
        except Exception as err:  # a failure of ours on one line must not lose the rest of a long batch
            row.update(status="error", error=f"internal error: {type(err).__name__}: {err}",
                       error_type=type(err).__name__)
        row.update(wall_s=round(time.perf_counter() - start, 3), time=time.time())
        self._append(rank, row)
        return {"line": item["line"], "status": row["status"]}


def _first(batch: list):
    return batch[0]


class BatchPredictModule(LightningModule):
    """Lightning's predict loop over this rank's shard of the lines; no trainable parameters (so nothing
    for DDP to synchronise or wrap)."""

    def __init__(self, items: list[dict], writer: LineWriter):
        super().__init__()
        self.items, self.writer = items, writer

    def predict_dataloader(self):
        from torch.utils.data import DataLoader

        mine = shard(self.items, self.trainer.global_rank, self.trainer.world_size)
        return DataLoader(mine, batch_size=1, shuffle=False, collate_fn=_first)

    def predict_step(self, item: dict, batch_idx: int) -> dict:
        return self.writer(item, self.trainer.global_rank)


def _read_logs(out_dir: Path) -> dict[str, dict]:
    """stem -> the latest row any rank logged for it (a torn last line of a killed run is skipped)."""
    latest: dict[str, dict] = {}
    for log in sorted((out_dir / LOG_DIR).glob("rank*.jsonl")):
        for text in log.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(text)
            except json.JSONDecodeError:
                continue
            stem = row.get("stem") if isinstance(row, dict) else None
            if stem and row.get("time", 0) >= latest.get(stem, {}).get("time", 0):
                latest[stem] = row
    return latest


def write_manifest(out_dir: Path, items: list[dict], done_before: set[str]) -> list[dict]:
    latest, rows = _read_logs(out_dir), []
    for item in items:
        stem = item["stem"]
        logged = latest.get(stem)
        base = {"line": item["line"], "text": item["text"]}
        if (out_dir / f"{stem}.wav").is_file():
            known = logged if logged and logged.get("status") == "ok" else {}
            row = {**base, **known, "status": "ok", "output": f"{stem}.wav", "reused": stem in done_before}
        elif logged:
            row = {**base, **logged, "reused": False}
        else:
            row = {**base, "status": "missing", "error": "not synthesised: a process stopped before this line"}
        rows.append({k: v for k, v in row.items() if k not in _LOG_ONLY})
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    write_text_atomic(out_dir / MANIFEST, body)
    return rows


def _prepare(lines_path, out_dir: Path, job: BatchJob, engine):
    """Every check that can fail for the whole batch, before anything is written."""
    from deepasmr.audio import load_audio
    from deepasmr.pipeline.config import speak_config
    from deepasmr.pipeline.engine import DeepASMR

    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(f"{out_dir}: exists and is not a folder")
    lines = read_lines(lines_path)
    voice_wav, voice_sr = load_audio(job.voice)
    if engine is None:
        engine = DeepASMR.load(job.model, speak_config(job.precision, candidates=job.candidates,
                                                       phone_cfg_strength=job.phone_guidance))
    engine.check_options(job.style, job.prompt_style, job.steps, job.iterations)
    if job.prompt_text is not None and job.prompt_text.strip():
        from deepasmr.pipeline.text import check_text

        check_text(job.prompt_text, None, engine.config)
    prompt_style, notes = job.prompt_style, []
    if prompt_style is None:  # once for the batch, the way route_task would for every line
        from deepasmr.speaker.select import detect_style

        prompt_style, r_uv = detect_style(voice_wav, voice_sr)
        notes.append(f"clip style {prompt_style} by R_UV {r_uv:.2f} (detected once for the batch)")
    voice_sha = hashlib.sha256(Path(job.voice).read_bytes()).hexdigest()
    items = plan(lines, job, voice_sha, str(Path(engine.bundle.root).resolve()))
    return engine, items, LineWriter(engine, job, out_dir, prompt_style, tuple(notes))


def _launched_externally() -> bool:
    """torchrun fixed the process count (ranks Lightning re-launches itself recompute the same cap)."""
    return "TORCHELASTIC_RUN_ID" in os.environ


def run_batch(lines_path: str | os.PathLike, out_dir: str | os.PathLike, job: BatchJob, *, engine=None,
              devices: int = 1, progress: bool = True, threads: int = 0) -> dict | None:
    """Synthesise every line of `lines_path` into `out_dir` over `devices` CPU processes (DDP when > 1).

    Batch-level problems (unreadable lines file, bad voice clip, bad options, missing model files) raise a
    DeepASMRError before anything is written; a bad line only gets an "error" row. Returns the summary on
    rank 0 and None on the other ranks. `engine`: an already loaded DeepASMR (single process only).
    """
    import torch
    from lightning.pytorch import Trainer

    out_dir = Path(out_dir)
    if not (isinstance(devices, int) and devices >= 1):
        raise DataError(f"devices must be a positive number of processes, not {devices!r}")
    if engine is not None and devices > 1:
        raise DataError("a preloaded engine runs in this process only: use devices=1, or pass no engine")
    engine, items, writer = _prepare(lines_path, out_dir, job, engine)
    if not _launched_externally():
        devices = min(devices, len(items))  # a rank without lines would only cost a model load
    if threads > 0:
        torch.set_num_threads(threads)
    elif devices > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // devices))
    out_dir.mkdir(parents=True, exist_ok=True)
    # Taken before trainer.predict: the other ranks cannot write before they have joined the process group.
    done_before = {it["stem"] for it in items if (out_dir / f"{it['stem']}.wav").is_file()}
    trainer = Trainer(accelerator="cpu", devices=devices, strategy="ddp" if devices > 1 else "auto",
                      logger=False, enable_checkpointing=False, enable_model_summary=False,
                      enable_progress_bar=progress, use_distributed_sampler=False, default_root_dir=str(out_dir))
    with warnings.catch_warnings():  # Lightning 2.6 trips over its own LeafSpec deprecation on every batch
        warnings.filterwarnings("ignore", message=r".*LeafSpec.*")
        trainer.predict(BatchPredictModule(items, writer), return_predictions=False)
    trainer.strategy.barrier("deepasmr-batch-done")
    if not trainer.is_global_zero:
        return None
    rows = write_manifest(out_dir, items, done_before)
    count = {s: sum(r["status"] == s for r in rows) for s in ("ok", "error", "missing")}
    reused = sum(bool(r.get("reused")) for r in rows)
    return {"manifest": str(out_dir / MANIFEST), "out_dir": str(out_dir), "lines": len(rows),
            "written": count["ok"] - reused, "reused": reused, "errors": count["error"],
            "missing": count["missing"], "processes": trainer.world_size, "prompt_style": writer.prompt_style}
