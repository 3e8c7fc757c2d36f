"""The Table III ablation's prompt selection through the pipeline: a fixed prompt, and a pool given per request."""

from __future__ import annotations

from deepasmr.pipeline.config import RouteOptions

SENTENCE = "The quiet garden was full of yellow flowers."


def test_fixed_prompt_is_the_task_prompt_for_everyone(engine, voice_clip, whisper_clip):
    text = "Close your eyes and listen to the soft rain."
    route = RouteOptions(mode="fixed", fixed_prompt=(whisper_clip, text))
    result = engine.speak_detailed(SENTENCE, voice_clip, "asmr", prompt_style="normal", seed=0, route=route)
    assert result.task == "N2A" and result.route["mode"] == "fixed"
    assert result.route["task_prompt"]["audio"] == str(whisper_clip)
    assert result.route["task_prompt"]["text"] == text and result.route["entry_id"] is None
    # The fixed clip has no stored tokens: the bundle's tokenizer makes them, and says so.
    assert any("re-made" in note for note in result.notes)
    assert result.wav.size > 0


def test_a_pool_given_per_request_replaces_the_bundles(engine, voice_clip):
    own = engine.bundle.pools
    # The same pools passed explicitly: same pick, and the stored tokens are still trusted (same tokenizer).
    result = engine.speak_detailed(SENTENCE, voice_clip, "asmr", prompt_style="normal", seed=0,
                                   route=RouteOptions(mode="virtual", pools=own))
    default = engine.speak_detailed(SENTENCE, voice_clip, "asmr", prompt_style="normal", seed=0)
    assert result.route["entry_id"] == default.route["entry_id"]
    assert not any("re-made" in note for note in result.notes)
