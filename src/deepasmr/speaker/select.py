"""Task routing the paper's way (DESIGN.md §5-6) and prompt selection from a speaker pool.

The LM's task prompt sets the output *style*; the flow's speaker prompt sets the *timbre*. Tokens carry some
timbre too, so a task prompt from a stranger leaks the stranger's voice:

- intra-style (A2A, N2N): the user's clip already has the output style, so it is the task prompt as well;
- cross-style (N2A, A2N): the task prompt is the pool entry of the output style whose speaker embedding is
  nearest (cosine) to the user's clip. Table III's ablation compares that `virtual` pool with a `real-pool`
  (a pool built from a folder of real clips) and one `fixed` prompt for everyone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepasmr.errors import AudioError, DataError
from deepasmr.speaker.pool import STYLES, Pool, PoolEntry, load_pools, single_thread

TASKS = {("normal", "asmr"): "N2A", ("asmr", "asmr"): "A2A", ("asmr", "normal"): "A2N", ("normal", "normal"): "N2N"}
MODES = ("virtual", "real-pool", "fixed")
# Pool source kinds that each pool mode expects (a mismatch is allowed but noted: the ablation's labels matter).
MODE_SOURCES = {"virtual": ("corpus", "n2a-bootstrap"), "real-pool": ("folder",)}


@dataclass(frozen=True)
class SelectConfig:
    # Cosines closer than this to the best count as a tie, and the lowest id among them wins: stored fp32
    # embeddings and BLAS summation order move cosines by ~1e-6, which must not change the pick.
    tie_epsilon: float = 1e-4


DEFAULT_SELECT = SelectConfig()


@dataclass
class Prompt:
    """An utterance used as a prompt: audio, its transcript, style, language and (when known) speech tokens."""

    audio: Path
    text: str | None
    style: str
    language: str | None = None
    tokens: list[int] | None = None


@dataclass
class Selection:
    entry: PoolEntry
    audio: Path
    similarity: float
    note: str | None = None


@dataclass
class TaskRoute:
    task: str  # N2A | A2A | A2N | N2N
    mode: str  # "self" (intra-style) or the cross-style selection mode
    clip_style: str
    output_style: str
    task_prompt: Prompt  # -> the LM
    speaker_prompt: Path  # the user's clip -> the flow decoder
    entry_id: str | None = None
    similarity: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        p = self.task_prompt
        return {"task": self.task, "mode": self.mode, "clip_style": self.clip_style,
                "output_style": self.output_style, "speaker_prompt": str(self.speaker_prompt),
                "task_prompt": {"audio": str(p.audio), "text": p.text, "style": p.style, "language": p.language,
                                "n_tokens": None if p.tokens is None else len(p.tokens)},
                "entry_id": self.entry_id,
                "similarity": None if self.similarity is None else round(self.similarity, 4), "notes": self.notes}


def task_name(clip_style: str, output_style: str) -> str:
    try:
        return TASKS[(clip_style, output_style)]
    except KeyError:
        raise DataError(f"styles must be one of {STYLES}, got {clip_style!r} -> {output_style!r}") from None


def is_cross_style(clip_style: str, output_style: str) -> bool:
    return task_name(clip_style, output_style) in ("N2A", "A2N")


def detect_style(wav: np.ndarray, sr: int) -> tuple[str, float]:
    """The clip's style by its unvoiced ratio (the paper's R_UV metric, deepasmr.eval.voicing) and the ratio."""
    from deepasmr.eval.voicing import analyze_voicing

    summary = analyze_voicing(wav, sr)
    if summary.style not in STYLES:
        raise AudioError("cannot tell the clip's style (no active frames); give the style explicitly")
    return summary.style, float(summary.r_uv)


def select_entry(pool: Pool, query: np.ndarray, language: str | None = None,
                 config: SelectConfig = DEFAULT_SELECT) -> Selection:
    """The pool entry nearest to `query` (a speaker embedding), in `language` when the pool has it."""
    query = np.asarray(query, dtype=np.float64).ravel()
    if query.shape[0] != pool.embeddings.shape[1] or not np.all(np.isfinite(query)) or not np.any(query):
        raise AudioError(f"query embedding must be a finite non-zero {pool.embeddings.shape[1]}-d vector")
    idx = np.arange(len(pool.entries))
    note = None
    if language is not None:
        same = np.array([e.language == language for e in pool.entries])
        if same.any():
            idx = idx[same]
        else:
            note = (f"the {pool.style} pool has no {language} entries ({'/'.join(sorted(pool.languages))} only); "
                    "picked across languages")
    emb = pool.embeddings[idx].astype(np.float64)
    sims = emb @ query / (np.linalg.norm(emb, axis=1) * np.linalg.norm(query))
    near = idx[sims >= sims.max() - config.tie_epsilon]
    best = min(near, key=lambda i: pool.entries[i].id)
    entry = pool.entries[best]
    return Selection(entry=entry, audio=pool.audio_path(entry), similarity=float(sims[idx == best][0]), note=note)


def counterpart(pools: dict[str, Pool], clip_style: str, query: np.ndarray, language: str | None = None,
                config: SelectConfig = DEFAULT_SELECT) -> PoolEntry | None:
    """The pool voice nearest to a clip *in the clip's own style*, as that speaker's entry in the other style's
    pool; None when a pool is missing or the speaker has no entry there.

    Why: what a whispered clip's speaker sounds like when speaking normally (e.g. the pitch register for A2N)
    is best guessed from voices compared whisper to whisper. Speaker embeddings compared across styles confuse
    voices: on dev, the nearest normal voice to a Mandarin whisper was a man's for every clip of its woman."""
    other = next(s for s in STYLES if s != clip_style)
    if clip_style not in pools or other not in pools:
        return None
    near = select_entry(pools[clip_style], query, language, config).entry
    if not near.speaker:
        return None
    return next((e for e in pools[other].entries if e.speaker == near.speaker), None)


def _load_clip(clip: str | os.PathLike) -> tuple[np.ndarray, int]:
    from deepasmr.audio import load_audio

    return load_audio(clip)


def route_task(clip: str | os.PathLike, output_style: str, *, clip_text: str | None = None,
               clip_style: str | None = None, language: str | None = None, mode: str = "virtual",
               pools: dict[str, Pool] | str | os.PathLike | None = None, fixed: Prompt | None = None,
               config: SelectConfig = DEFAULT_SELECT) -> TaskRoute:
    """Decide the task and its prompts for a user's clip and a requested output style.

    clip_style: the clip's style when known, else its R_UV verdict. language: the target text's language
    (a pool prompt in the same language). mode: how a cross-style task prompt is chosen (`virtual` and
    `real-pool` take `pools`, `fixed` takes `fixed`); intra-style tasks always use the clip itself.
    """
    if output_style not in STYLES:
        raise DataError(f"output style {output_style!r} is not one of {STYLES}")
    if mode not in MODES:
        raise DataError(f"selection mode {mode!r} is not one of {MODES}")
    clip = Path(clip)
    notes: list[str] = []
    wav = sr = None
    if clip_style is None:
        wav, sr = _load_clip(clip)
        clip_style, r_uv = detect_style(wav, sr)
        notes.append(f"clip style {clip_style} by R_UV {r_uv:.2f}")
    task = task_name(clip_style, output_style)
    if not is_cross_style(clip_style, output_style):
        prompt = Prompt(audio=clip, text=clip_text, style=clip_style, language=language)
        return TaskRoute(task, "self", clip_style, output_style, prompt, clip, notes=notes)
    if mode == "fixed":
        if fixed is None:
            raise DataError("the fixed selection mode needs a fixed prompt (audio + text)")
        if fixed.style != output_style:
            raise DataError(f"the fixed prompt is {fixed.style}, but {task} needs a {output_style} task prompt")
        return TaskRoute(task, mode, clip_style, output_style, fixed, clip, notes=notes)
    if pools is None:
        raise DataError(f"{task} with the {mode} mode needs a speaker pool folder")
    pools = pools if isinstance(pools, dict) else load_pools(pools)
    if output_style not in pools:
        raise DataError(f"{task} needs a pool of {output_style} entries; have {sorted(pools)} only")
    pool = pools[output_style]
    kind = (pool.meta.get("source") or {}).get("kind")
    if kind not in MODE_SOURCES[mode]:
        notes.append(f"{mode} mode with a pool built from {kind or 'an unknown source'}")
    from deepasmr.speaker.embedding import embed

    if wav is None:
        wav, sr = _load_clip(clip)
    with single_thread():
        query = embed(wav, sr)
    sel = select_entry(pool, query, language, config)
    if sel.note:
        notes.append(sel.note)
    e = sel.entry
    prompt = Prompt(audio=sel.audio, text=e.text, style=e.style, language=e.language, tokens=e.tokens)
    return TaskRoute(task, mode, clip_style, output_style, prompt, clip, e.id, sel.similarity, notes)
