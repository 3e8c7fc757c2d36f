"""The embedded default bundle that ships in the repository: complete, loadable offline, with its record."""

from __future__ import annotations

import json

from deepasmr.pipeline import default_model_dir, load_bundle, missing_files

BUDGET_MB = 60  # the budget for the committed bundle (its trained Vocos vocoder included)


def test_the_embedded_bundle_is_complete_and_within_budget():
    root = default_model_dir()
    assert missing_files(root) == {}
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < BUDGET_MB * 1024 * 1024, f"models/tiny is {size / 2**20:.1f} MB"


def test_the_embedded_bundle_loads_and_records_how_it_was_built():
    bundle = load_bundle()
    record = bundle.meta
    assert record["corpus"]["seed"] == 0 and record["git_commit"]
    assert {"lm", "flow", "tokenizer", "vocoder", "flow_normal", "pitch", "vocoder_normal"} <= set(record["stages"])
    # It carries the Vocos vocoders trained here, one per output style: whispers through the one with the voicing
    # head, normal speech through the one whose phase follows F0.
    whisper, normal = bundle.vocoder.vocoders["asmr"], bundle.vocoder.vocoders["normal"]
    assert whisper.kind == normal.kind == "vocos" and whisper.model.voicing is not None
    assert normal.model.pitch is not None and whisper.model.pitch is None
    voice = json.loads((bundle.root / "voices" / "default.json").read_text())
    assert (bundle.root / "voices" / voice["audio"]).is_file() and voice["text"]
    # The demo speaker is held out: no pool entry comes from it.
    assert all(e.speaker != voice["speaker"] for pool in bundle.pools.values() for e in pool.entries)


def test_the_shipped_decoder_in_bf16_writes_the_mel_it_writes_in_fp32(shipped_decoder_case):
    """precision="auto" runs the flow in bf16 on CPUs with native bf16: the trained decoder must not drift."""
    bundle, prompt, tokens = shipped_decoder_case
    kw = dict(steps=6, seed=0)
    ref = bundle.flow.generate(tokens, prompt, **kw)
    fast = bundle.flow.generate(tokens, prompt, precision="bf16", **kw)
    drift = (fast - ref).abs().mean() / ref.std()
    assert 0 < drift < 0.02, f"bf16 drift {drift:.4f} of the mel's spread"


def test_normal_speech_has_its_own_decoder_and_the_speakers_pitch():
    """Normal-style output goes through the decoder told F0 (stored as int8) and comes out at the voice clip's
    pitch; the whispering decoder alone rendered it at the vocoder's frame rate (a multiple of 86 Hz)."""
    import numpy as np
    from safetensors.torch import load_file

    from deepasmr.audio import load_audio
    from deepasmr.eval.voicing import analyze_voicing
    from deepasmr.int8 import SCALE_SUFFIX
    from deepasmr.pipeline import DeepASMR
    from deepasmr.pipeline.bundle import NORMAL_FLOW_DIR

    engine = DeepASMR.load()
    b = engine.bundle
    assert b.flow_normal is not None and b.flow_normal.cfg.pitch_cond and not b.flow.cfg.pitch_cond
    assert b.pitch is not None
    assert any(k.endswith(SCALE_SUFFIX) for k in load_file(str(b.root / NORMAL_FLOW_DIR / "flow.safetensors")))
    voice = json.loads((b.root / "voices" / "default.json").read_text())
    clip = b.root / "voices" / voice["audio"]
    out = engine.speak_detailed("The garden was quiet after the rain.", clip, "normal", seed=0,
                                prompt_text=voice["text"])
    assert out.task == "N2N"
    heard = analyze_voicing(out.wav, out.sample_rate)
    own = analyze_voicing(*load_audio(clip, 16_000))
    octaves = abs(np.log2(heard.f0_median_hz / own.f0_median_hz))
    assert octaves < 0.26, f"output median F0 {heard.f0_median_hz:.0f} Hz, the voice's {own.f0_median_hz:.0f} Hz"
    assert heard.r_uv < 0.4  # normal speech, not breath
