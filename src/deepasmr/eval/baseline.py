"""The DSP baseline: a TTS + "VC" cascade built from synthesizers and WORLD (`deepasmr baseline`).

In the spirit of the paper's TTS+VC baselines, with DSP standing in for the VC model:
1. TTS: the entry's `transcription` spoken by one fixed synthesizer voice per language (flite `rms` for
   English, espeak-ng `cmn-latn-pinyin+m1` for Mandarin, fed pinyin), through `deepasmr.data.voices.render`.
   Neither is the base voice of a test speaker. (flite `kal16` was the first choice, but its WORLD
   pseudo-whisper keeps a periodic buzz PYIN tracks near 500 Hz: R_UV 0.74-0.94 against rms's 1.0.)
2. "VC": the voice is moved towards the prompt speaker with a WORLD spectral-envelope warp and, for voiced
   output, a pitch factor matching the prompt's median F0. The warp is chosen once per prompt clip from a small
   grid: the synthesizer says the prompt's own transcript (the target text when there is none) in the prompt's
   style at every grid warp, and the warp whose rendering has the highest resemblyzer cosine to the clip wins.
3. Style: ASMR output is WORLD pseudo-whisper (F0 = 0, fully aperiodic) at the corpus's slower ASMR pace,
   with the corpus's ASMR delivery (high-shelf brightness, softer level); normal output is voiced resynthesis.
An ASMR (unvoiced) prompt has no F0 to match, so its normal-style output keeps the synthesizer's pitch.
Outputs go to `<out>/<key>.wav` at 22.05 kHz (atomic; present files are kept), with every entry's warp,
pitch and grid scores in `<out>/baseline_log.json`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deepasmr.data.world_fx import VoiceTransform, WorldConfig
from deepasmr.errors import DataError, DeepASMRError
from deepasmr.eval.synthesize import TASK_STYLES, spread
from deepasmr.eval.testset import load_testset, task_name

LOG_NAME = "baseline_log.json"


@dataclass(frozen=True)
class BaselineConfig:
    # Spectral-envelope warps tried per prompt: about +-19 %, evenly spaced in log (1.0 in the middle).
    warps: tuple[float, ...] = (0.84, 0.89, 0.94, 1.0, 1.06, 1.12, 1.19)
    # One synthesizer voice per language: keys of deepasmr.data.voices.BASE_BY_KEY.
    voices: tuple[tuple[str, str], ...] = (("en", "fl-rms"), ("zh", "es-zhm1"))
    sample_rate: int = 22_050
    # Pitch factors beyond this range sound broken through WORLD; clamp rather than follow a bad F0 track.
    pitch_range: tuple[float, float] = (0.5, 2.5)
    # A prompt with fewer voiced frames than this share has no usable F0 (whisper).
    min_voiced_share: float = 0.2
    world: WorldConfig = field(default_factory=WorldConfig)

    def voice(self, language: str):
        from deepasmr.data.voices import BASE_BY_KEY

        keys = dict(self.voices)
        if language not in keys:
            raise DataError(f"the baseline has no synthesizer voice for language {language!r}")
        return BASE_BY_KEY[keys[language]]


def median_f0(wav: np.ndarray, sr: int, config: BaselineConfig) -> float | None:
    """Median F0 (Hz) over voiced frames by WORLD's DIO + StoneMask, or None when too few are voiced."""
    import pyworld as pw

    x = np.ascontiguousarray(wav, dtype=np.float64)
    cfg = config.world
    f0, t = pw.dio(x, sr, f0_floor=cfg.f0_floor_hz, f0_ceil=cfg.f0_ceil_hz, frame_period=cfg.frame_period_ms)
    f0 = pw.stonemask(x, f0, t, sr)
    voiced = f0[f0 > 0]
    if voiced.size < max(3, config.min_voiced_share * f0.size):
        return None
    return float(np.median(voiced))


class Cascade:
    """The synthesizer voice of one language, and the WORLD voice/style transform applied to it."""

    def __init__(self, language: str, config: BaselineConfig = BaselineConfig()):
        self.language, self.config = language, config
        self.base = config.voice(language)
        self._choices: dict[str, dict] = {}  # prompt path -> chosen warp, pitch, grid scores

    def speak(self, text: str) -> tuple[np.ndarray, int]:
        """The fixed synthesizer voice saying `text`, at most at the output rate."""
        from deepasmr.data.render import resample_fast
        from deepasmr.data.voices import render

        if self.language == "zh":
            from deepasmr.frontend import to_pinyin

            text = to_pinyin(text)
        [(wav, sr)] = render(self.base, [text])
        if sr > self.config.sample_rate:  # WORLD's cost grows with the rate
            wav, sr = resample_fast(wav, sr, self.config.sample_rate), self.config.sample_rate
        return wav, sr

    def transform(self, wav: np.ndarray, sr: int, style: str, warp: float, pitch: float) -> np.ndarray:
        """Warp (and pitch or whisper) the rendering; trimmed, at the output rate, with the style's delivery."""
        from deepasmr.data.delivery import DeliveryConfig, finish
        from deepasmr.data.render import resample_fast, trim
        from deepasmr.data.world_fx import apply_transform

        if style == "asmr":
            tf = VoiceTransform(warp=warp, whisper=True, stretch=DeliveryConfig().asmr_stretch)
        else:
            tf = VoiceTransform(warp=warp, pitch=pitch)
        y = trim(apply_transform(wav, sr, tf, self.config.world), sr)
        rate = self.config.sample_rate
        return finish(resample_fast(y, sr, rate), rate, style)

    def pitch_for(self, wav: np.ndarray, sr: int, prompt_f0: float | None) -> float:
        """F0 factor taking the rendering's median F0 to the prompt's (1.0 without a prompt F0)."""
        own = median_f0(wav, sr, self.config) if prompt_f0 else None
        if not own:
            return 1.0
        lo, hi = self.config.pitch_range
        return float(np.clip(prompt_f0 / own, lo, hi))

    def choose(self, prompt: Path, prompt_text: str, prompt_style: str) -> dict:
        """The grid warp whose rendering (prompt text, prompt style) sounds most like the clip; cached."""
        from deepasmr.audio import load_audio
        from deepasmr.speaker.embedding import cosine, embed

        key = str(prompt)
        if key not in self._choices:
            clip, clip_sr = load_audio(prompt)
            prompt_f0 = median_f0(clip, clip_sr, self.config)
            target = embed(clip, clip_sr)
            wav, sr = self.speak(prompt_text)
            pitch = self.pitch_for(wav, sr, prompt_f0)
            scores = {}
            for warp in self.config.warps:
                y = self.transform(wav, sr, prompt_style, warp, pitch)
                scores[warp] = cosine(embed(y, self.config.sample_rate), target)
            best = max(scores, key=scores.get)
            self._choices[key] = {
                "warp": best,
                "prompt_f0_hz": None if prompt_f0 is None else round(prompt_f0, 1),
                "sim_by_warp": {f"{w:g}": round(s, 4) for w, s in scores.items()},
            }
        return self._choices[key]

    def generate(self, text: str, prompt: Path, prompt_text: str, prompt_style: str, style: str
                 ) -> tuple[np.ndarray, dict]:
        """One cascade output (at `config.sample_rate`) and its record for the log."""
        choice = self.choose(prompt, prompt_text, prompt_style)
        wav, sr = self.speak(text)
        f0 = choice["prompt_f0_hz"]
        pitch = 1.0 if style == "asmr" else self.pitch_for(wav, sr, f0)
        y = self.transform(wav, sr, style, choice["warp"], pitch)
        return y, {"warp": choice["warp"], "pitch": round(pitch, 4), "prompt": str(prompt), **choice}


def _read_log(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("entries", {})
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        return {}


def run_baseline(testset: str | os.PathLike, audio_root: str | os.PathLike, out_dir: str | os.PathLike,
                 language: str, limit: int = 0, config: BaselineConfig = BaselineConfig()) -> dict:
    """The cascade over every (or `limit` spread) entries of one test set; returns (and writes) its log.

    Entries whose wav is already there and logged are kept, so an interrupted run continues."""
    from deepasmr.atomic import write_text_atomic
    from deepasmr.audio import save_audio

    task = task_name(testset)
    if task not in TASK_STYLES:
        raise DataError(f"{testset}: cannot tell the task (N2A/A2A/A2N/N2N) from the file name")
    prompt_style, style = TASK_STYLES[task]
    entries = spread(load_testset(testset), limit)
    out, root = Path(out_dir), Path(audio_root)
    out.mkdir(parents=True, exist_ok=True)
    cascade = Cascade(language, config)
    previous = _read_log(out / LOG_NAME)
    log = {"task": task, "testset": str(testset), "language": language, "style": style,
           "prompt_style": prompt_style, "voice": f"{cascade.base.engine}:{cascade.base.voice}",
           "warps": list(config.warps), "sample_rate": config.sample_rate, "n": len(entries), "written": 0,
           "kept": 0, "failed": [], "seconds_audio": 0.0, "seconds_wall": 0.0, "entries": {}}
    start = time.perf_counter()
    for entry in tqdm(entries, desc=f"baseline {language.upper()}_{task}", unit="utt"):
        key = str(entry["key"])
        target = out / f"{key}.wav"
        if target.is_file() and key in previous:
            log["entries"][key] = previous[key]
            log["kept"] += 1
            continue
        prompt = root / entry["prompt_audio"]
        try:
            wav, record = cascade.generate(entry["transcription"], prompt,
                                           entry.get("prompt_transcription") or entry["transcription"],
                                           prompt_style, style)
        except DeepASMRError as err:
            log["failed"].append({"key": key, "error": str(err)})
            continue
        save_audio(target, wav, config.sample_rate)
        log["entries"][key] = record
        log["written"] += 1
        log["seconds_audio"] += wav.size / config.sample_rate
    log["seconds_wall"] = round(time.perf_counter() - start, 2)
    log["seconds_audio"] = round(log["seconds_audio"], 2)
    write_text_atomic(out / LOG_NAME, json.dumps(log, indent=1, ensure_ascii=False) + "\n")
    return log
