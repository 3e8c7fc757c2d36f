"""Benchmark of the toolkit on synthesised voices (slow; `pytest -m slow tests/eval -s` prints the figures).

Voices: espeak-ng normal variants, its native whisper variants, flite, festival, and WORLD pseudo-whisper
of the flite/festival voices. Figures: R_UV per voice, resemblyzer SIM same vs cross voice, tiny.en WER,
PYIN speed."""

from __future__ import annotations

import shutil
import subprocess
import time

import numpy as np
import pytest
from eval_synth import espeak, flite, world_whisper

HARVARD = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
)
NORMAL = {
    "espeak_en-us": ("espeak", "en-us"),
    "espeak_m3": ("espeak", "en-us+m3"),
    "espeak_f2": ("espeak", "en-us+f2"),
    "flite_slt": ("flite", "slt"),
    "flite_awb": ("flite", "awb"),
    "flite_rms": ("flite", "rms"),
    "flite_kal16": ("flite", "kal16"),
    "festival_kal": ("festival", "voice_kal_diphone"),
    "festival_slt_hts": ("festival", "voice_cmu_us_slt_arctic_hts"),
}
WHISPER = {"espeak_whisper": ("espeak", "en-us+whisper"), "espeak_whisperf": ("espeak", "en-us+whisperf")}


def festival(out, text, voice):
    if shutil.which("text2wave") is None:
        pytest.skip("festival is not installed")
    txt = out.with_suffix(".txt")
    txt.write_text(text)
    subprocess.run(["text2wave", "-eval", f"({voice})", "-o", str(out), str(txt)], check=True, capture_output=True)
    return out


def synth(kind, out, text, voice):
    return {"espeak": espeak, "flite": flite, "festival": festival}[kind](out, text, voice)


@pytest.mark.slow
def test_benchmark(tmp_path):
    from deepasmr.eval.asr import error_rate, get_backend, transcribe_file, utterance_errors
    from deepasmr.eval.voicing import analyze_files, pool_ratios
    from deepasmr.speaker.embedding import embed_file

    clips = {}
    for name, (kind, voice) in {**NORMAL, **WHISPER}.items():
        clips[name] = [synth(kind, tmp_path / f"{name}_{i}.wav", s, voice) for i, s in enumerate(HARVARD)]
    for name in ("flite_slt", "flite_awb", "festival_slt_hts"):
        clips[f"{name}_world"] = [world_whisper(p, p.with_name(p.stem + "_world.wav")) for p in clips[name]]

    paths = [p for ps in clips.values() for p in ps]
    t0 = time.perf_counter()
    summaries = dict(zip(paths, analyze_files(paths, workers=2), strict=True))
    pyin_s = time.perf_counter() - t0
    import soundfile as sf

    audio_s = sum(sf.info(str(p)).duration for p in paths)
    print(f"\nPYIN: {audio_s:.0f} s of audio in {pyin_s:.1f} s wall on 2 workers = {audio_s / pyin_s:.1f}x real time")

    asr = get_backend("tiny.en", "en")
    emb = {name: [embed_file(p) for p in ps] for name, ps in clips.items()}
    print(f"{'voice':24s} {'R_UV global':>11s} {'WER':>7s} {'capped':>7s} {'SIM same':>9s} {'SIM cross max':>13s}")
    for name, ps in clips.items():
        pooled = pool_ratios([summaries[p] for p in ps])
        rows = [utterance_errors(s, transcribe_file(p, "en", asr), "en") for p, s in zip(ps, HARVARD, strict=True)]
        rates = error_rate(rows)
        same = np.mean([emb[name][i] @ emb[name][j] for i in range(len(ps)) for j in range(i + 1, len(ps))])
        cross = max(np.mean([a @ b for a in emb[name] for b in emb[o]]) for o in clips if o != name)
        print(
            f"{name:24s} {pooled['r_uv_global']:11.3f} {rates['rate']:7.3f} {rates['rate_capped']:7.3f} "
            f"{same:9.3f} {cross:13.3f}"
        )
        if name in WHISPER or name.endswith("_world"):
            assert pooled["r_uv_global"] > 0.85
