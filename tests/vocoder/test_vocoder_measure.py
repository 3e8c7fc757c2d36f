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
