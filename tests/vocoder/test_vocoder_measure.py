"""Copy-synthesis measurement: per group and per utterance, on synthesizer clips and the real HiFi-GAN."""

from __future__ import annotations

from deepasmr.vocoder.measure import measure, pool_by_style

SENTENCE_TEXT = "Sea shells by the shore."  # what the `clips` fixture's synthesizers say


def test_measure_names_each_utterance_and_pools_by_style(clips, hifigan):
    items = [{"path": path, "text": SENTENCE_TEXT, "group": f"en_{name}", "style": "asmr" if "whisper" in name
              else "normal", "language": "en"} for name, (_, path) in clips.items()]
    results = measure(items, hifigan)
    assert set(results) == {item["group"] for item in items}
    for group in results.values():
        (row,) = group["utterances"]
        assert row["n_ref"] == len(SENTENCE_TEXT.split())
        assert row["errors_orig"] >= 0 and row["errors_copy"] >= 0 and isinstance(row["hyp_copy"], str)
        assert 0.0 <= group["r_uv_copy"] <= 1.0
    pooled = pool_by_style(results)
    assert set(pooled) == {item["style"] for item in items}
    assert sum(p["n"] for p in pooled.values()) == len(items)



def test_the_bundles_normal_vocoder_driven_by_the_clips_pitch_keeps_it(tmp_path):
    """Copy-synthesis as the bundle runs its normal-speech Vocos: told the clip's own F0 and voicing (PYIN), it
    renders the clip at its pitch (reading F0 itself it was 220 cents off at the median on this clip)."""
    import subprocess

    from deepasmr.audio import load_audio
    from deepasmr.eval.voicing import pitch_agreement, voicing_track
    from deepasmr.pipeline import default_model_dir
    from deepasmr.vocoder import VocoderConfig, load_vocoder
    from deepasmr.vocoder.copysynth import copy_synthesize

    path = tmp_path / "awb.wav"
    subprocess.run(["flite", "-voice", "awb", "-t", "The little boat drifted slowly across the lake and the "
                    "children waved from the shore.", "-o", str(path)], check=True, capture_output=True)
    vocoder = load_vocoder(VocoderConfig(kind="vocos", weights=default_model_dir() / "vocoder_normal"))
    sr = vocoder.sample_rate
    wav, _ = load_audio(path, sr)
    original, driven = voicing_track(wav, sr), voicing_track(copy_synthesize(wav, vocoder, "normal", "pyin"), sr)
    agreement = pitch_agreement(original, driven)
    assert agreement.n_frames > 150 and agreement.gpe < 0.02 and agreement.median_cents < 50
    assert abs(driven.summary().r_uv - original.summary().r_uv) < 0.1
