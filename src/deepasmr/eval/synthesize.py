"""Run a model over test sets in the paper's JSON format, then score it: `deepasmr eval-model`.

For task X2Y each entry's `prompt_audio` is the user's clip (style X, its style given by the task, as the
paper's lists know it), `transcription` is the text to speak in style Y, and `prompt_transcription` the
clip's transcript. Outputs are written as `<out>/<task>/<key>.wav`, atomically, and skipped when present,
so an interrupted run continues. `<out>/<task>/run.json` records what made them (the model files' digest,
the run settings, the prompt selection): a rerun with anything different refuses to mix its outputs with the
old ones unless told to regenerate (`force`), so a new bundle is never scored on an old bundle's wavs.
Scoring is `deepasmr.eval.testset.evaluate_testset` (every figure beside the ground truth's own).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from deepasmr.atomic import write_text_atomic
from deepasmr.data.testsets import TASKS as TASK_STYLES
from deepasmr.errors import DataError, DeepASMRError
from deepasmr.eval.testset import load_testset, task_name


@dataclass(frozen=True)
class RunConfig:
    seed: int = 0
    steps: int | None = None
    iterations: int = 1
    limit: int = 0  # entries per test set (0 = all); the first ones, which span the speakers in order
    use_prompt_text: bool = True  # give the clip's transcript (the paper's lists have it)


def spread(entries: list[dict], limit: int) -> list[dict]:
    """`limit` entries spread evenly over the list (which is ordered by speaker), so every speaker shows."""
    if not limit or limit >= len(entries):
        return entries
    step = len(entries) / limit
    return [entries[int(i * step)] for i in range(limit)]


def model_digest(root: str | os.PathLike) -> str:
    """sha256 over a bundle's stage files, its vocoder's weights and pool entries (not bundle.json, which also
    holds metrics: run_identity records its vocoder entry)."""
    root = Path(root)
    files = sorted(root.glob("*.safetensors")) + sorted(p for p in root.glob("*.json") if p.name != "bundle.json")
    files += sorted(root.glob("vocoder/*")) + sorted(root.glob("pools/*/entries.jsonl"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_identity(model, config: RunConfig, route) -> dict:
    """What made a folder of outputs, as plain JSON values (so it compares equal to its reloaded record)."""
    selection = None
    if route is not None:
        pools = None if route.pools is None else {
            style: sorted(str(getattr(e, "id", e.text)) for e in pool.entries) for style, pool in route.pools.items()}
        selection = {"mode": route.mode, "fixed_prompt": route.fixed_prompt, "pools": pools}
    from deepasmr.precision import resolve

    precision = str(resolve(model.config.precision)).removeprefix("torch.")  # what ran, not "auto"
    identity = {"model": model_digest(model.bundle.root), "vocoder": model.bundle.meta.get("vocoder"),
                "run": asdict(config), "selection": selection, "precision": precision,
                "max_prompt_seconds": model.config.max_prompt_seconds,
                "lm_sampling": {k: getattr(model.config, k) for k in ("temperature", "top_k", "top_p", "candidates")}}
    if model.config.phone_cfg_strength is not None:  # only when overridden: earlier runs' records stay valid
        identity["phone_cfg_strength"] = model.config.phone_cfg_strength
    return json.loads(json.dumps(identity, default=str))


def _claim_folder(out: Path, identity: dict, force: bool) -> None:
    """Make `out` hold outputs of this run only: resume the same run, refuse (or with `force` clear) another's."""
    record = out / "run.json"
    old = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else None
    wavs = sorted(out.glob("*.wav"))
    if wavs and old != identity:
        if not force:
            what = "an unrecorded run" if old is None else "another run (" + ", ".join(
                k for k in identity if old.get(k) != identity[k]) + " differ)"
            raise DataError(f"{out} holds {len(wavs)} outputs of {what}: pass --force to regenerate them, "
                            "or choose another --out")
        for wav in wavs:
            wav.unlink()
    write_text_atomic(record, json.dumps(identity, indent=1, ensure_ascii=False))


def synthesize_testset(model, testset: str | os.PathLike, audio_root: str | os.PathLike,
                       out_dir: str | os.PathLike, config: RunConfig = RunConfig(), route=None,
                       force: bool = False) -> dict:
    """Generate every (or `limit` spread) entries of one test set; returns a log with per-entry notes.
    `route`: deepasmr.pipeline.config.RouteOptions (None = the bundle's virtual pool). Outputs of the same run
    already in `out_dir` are kept (resume); those of a different run raise DataError unless `force`."""
    from deepasmr.audio import save_audio

    task = task_name(testset)
    if task not in TASK_STYLES:
        raise DataError(f"{testset}: cannot tell the task (N2A/A2A/A2N/N2N) from the file name")
    prompt_style, style = TASK_STYLES[task]
    entries = spread(load_testset(testset), config.limit)
    out, root = Path(out_dir), Path(audio_root)
    out.mkdir(parents=True, exist_ok=True)
    _claim_folder(out, run_identity(model, config, route), force)
    log = {"task": task, "testset": str(testset), "n": len(entries), "written": 0, "skipped": 0, "failed": [],
           "seconds_audio": 0.0, "seconds_wall": 0.0, "routes": {}}
    start = time.perf_counter()
    for entry in tqdm(entries, desc=f"synth {task}", unit="utt"):
        key = str(entry["key"])
        target = out / f"{key}.wav"
        if target.is_file():
            log["skipped"] += 1
            continue
        prompt_text = entry.get("prompt_transcription") if config.use_prompt_text else None
        try:
            result = model.speak_detailed(entry["transcription"], root / entry["prompt_audio"], style,
                                          prompt_text=prompt_text, prompt_style=prompt_style, seed=config.seed,
                                          steps=config.steps, iterations=config.iterations,
                                          **({"route": route} if route is not None else {}))
        except DeepASMRError as err:
            log["failed"].append({"key": key, "error": str(err)})
            continue
        save_audio(target, result.wav, result.sample_rate)
        log["written"] += 1
        log["seconds_audio"] += result.wav.size / result.sample_rate
        log["routes"][key] = {"entry_id": result.route.get("entry_id"), "n_tokens": result.n_tokens,
                              "notes": result.notes}
    log["seconds_wall"] = time.perf_counter() - start
    (out / "synthesis_log.json").write_text(json.dumps(log, indent=1, ensure_ascii=False), encoding="utf-8")
    return log


def subset_testset(testset: str | os.PathLike, limit: int, out_path: Path) -> Path:
    """A copy of the test set holding only the `spread` entries, so scoring covers what was generated."""
    entries = spread(load_testset(testset), limit)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(entries, indent=1, ensure_ascii=False), encoding="utf-8")
    return out_path
