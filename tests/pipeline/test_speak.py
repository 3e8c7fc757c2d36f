"""End-to-end synthesis through a real (untrained-LM/flow) tiny bundle: wiring, routing, joining."""

from __future__ import annotations

import numpy as np
import pytest

SENTENCE = "The quiet garden was full of yellow flowers."
LONG = "The quiet garden was full of yellow flowers. A small bird sang in the old tree. Night came softly."
# Joins are faded to silence: consecutive samples at a sentence boundary may not jump more than this.
MAX_JOIN_JUMP = 0.05


def test_speak_returns_finite_audio_at_vocoder_rate(engine, voice_clip):
    result = engine.speak_detailed(SENTENCE, voice_clip, "asmr", seed=1)
    wav, sr = result.wav, result.sample_rate
    assert sr == engine.bundle.vocoder.sample_rate == 22_050
    assert wav.dtype == np.float32 and wav.ndim == 1 and np.all(np.isfinite(wav))
    hop, ratio = engine.bundle.mel_config.hop_length, engine.bundle.flow.cfg.token_ratio
    assert wav.size == pytest.approx(sum(result.n_tokens) * ratio * hop, rel=0.05)
    assert 0.3 < wav.size / sr < 30
    assert {"route", "lm", "flow", "vocoder", "total"} <= set(result.timings)
    assert np.max(np.abs(wav)) <= engine.config.peak_limit + 1e-6


def test_speak_is_deterministic_for_a_seed(engine, voice_clip):
    a, _ = engine.speak(SENTENCE, voice=voice_clip, style="asmr", seed=7)
    b, _ = engine.speak(SENTENCE, voice=voice_clip, style="asmr", seed=7)
    c, _ = engine.speak(SENTENCE, voice=voice_clip, style="asmr", seed=8)
    assert np.array_equal(a, b)
    assert a.size != c.size or not np.array_equal(a, c)


def test_cross_style_routes_to_the_nearest_pool_entry(engine, voice_clip):
    result = engine.speak_detailed(SENTENCE, voice_clip, "asmr", seed=0)
    assert result.task == "N2A"
    assert result.route["mode"] == "virtual" and result.route["entry_id"]
    pool = engine.bundle.pools["asmr"]
    assert result.route["entry_id"] in {e.id for e in pool.entries}
    assert result.route["task_prompt"]["style"] == "asmr"
    assert any("R_UV" in n for n in result.notes)


def test_intra_style_uses_the_clip_and_notes_prompt_free_input(engine, voice_clip):
    result = engine.speak_detailed(SENTENCE, voice_clip, "normal", seed=0, transcribe_prompt=False)
    assert result.task == "N2N" and result.route["mode"] == "self"
    assert result.route["task_prompt"]["audio"] == str(voice_clip)
    assert any("prompt-free" in n for n in result.notes)
    with_text = engine.speak_detailed(SENTENCE, voice_clip, "normal", seed=0,
                                      prompt_text="The little boat drifted slowly across the lake.")
    assert not any("prompt-free" in n for n in with_text.notes)


def test_asmr_clip_gives_a2n_and_given_prompt_style_skips_detection(engine, whisper_clip, voice_clip):
    assert engine.speak_detailed(SENTENCE, whisper_clip, "normal", seed=0).task == "A2N"
    given = engine.speak_detailed(SENTENCE, voice_clip, "asmr", prompt_style="asmr", seed=0)
    assert given.task == "A2A" and not any("R_UV" in n for n in given.notes)


def test_voice_as_array_matches_voice_as_file(engine, voice_clip):
    from deepasmr.audio import load_audio

    wav, sr = load_audio(voice_clip, trim=False)
    a, _ = engine.speak(SENTENCE, voice=(wav, sr), style="asmr", seed=3)
    assert np.all(np.isfinite(a)) and a.size > 0


def test_long_text_is_split_and_joined_without_clicks(engine, voice_clip):
    short = engine.speak_detailed(SENTENCE, voice_clip, "asmr", seed=2)
    long = engine.speak_detailed(LONG, voice_clip, "asmr", seed=2)
    assert len(long.sentences) == 3 and len(long.spans) == 3
    assert long.wav.size > short.wav.size
    pause = int(engine.config.pause_seconds * long.sample_rate)
    for (_, end), (start, _) in zip(long.spans, long.spans[1:], strict=False):
        assert start - end == pause
        assert np.all(long.wav[end:start] == 0)
        around = long.wav[end - 2 : start + 2]
        assert np.max(np.abs(np.diff(around))) < MAX_JOIN_JUMP


def test_iterative_refinement_runs(engine, voice_clip):
    result = engine.speak_detailed(SENTENCE, voice_clip, "asmr", seed=0, iterations=2)
    assert result.iterations == 2 and np.all(np.isfinite(result.wav)) and result.wav.size > 0
    assert any("refinement pass 2" in n for n in result.notes)


def test_zh_text(engine, voice_clip):
    result = engine.speak_detailed("今天的天气很好。我们去公园散步吧。", voice_clip, "asmr", seed=0)
    assert result.language == "zh" and len(result.sentences) == 2
    assert np.all(np.isfinite(result.wav))


def test_a_random_phase_vocoder_stays_reproducible_for_a_seed(tmp_path, bundle_dir, voice_clip):
    """A bundle whose Vocos draws the phase of whispered output: a seed still fixes the audio."""
    import json
    import shutil
    from dataclasses import replace

    from deepasmr.pipeline import DeepASMR
    from deepasmr.vocoder.vocos import VOCOS_PRESETS, VocosGenerator, save_vocos

    folder = tmp_path / "bundle"
    shutil.copytree(bundle_dir, folder)
    save_vocos(VocosGenerator(replace(VOCOS_PRESETS["tiny"], random_phase_styles=("asmr",))), folder / "vocoder")
    meta_path = folder / "bundle.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    meta_path.write_text(json.dumps({**meta, "vocoder": {"kind": "vocos", "weights": "vocoder"}}))
    model = DeepASMR.load(folder)
    first, _ = model.speak("Hello there.", voice_clip, "asmr", seed=3)
    again, _ = model.speak("Hello there.", voice_clip, "asmr", seed=3)
    other, _ = model.speak("Hello there.", voice_clip, "asmr", seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)



def test_whispered_output_takes_the_flow_configs_own_guidance(bundle_dir, voice_clip, monkeypatch):
    """FlowConfig.asmr_cfg_strength applies to asmr output only: N2A with it set to 0 is N2A with guidance
    forced off for the request, and normal output is unchanged."""
    from dataclasses import replace

    import torch

    from deepasmr.pipeline import DeepASMR

    engine = DeepASMR.load(bundle_dir)
    flow = engine.bundle.flow
    with torch.no_grad():  # the fixture's decoder is untrained: a zero output layer would make guidance moot
        for param in flow.parameters():
            if param.abs().sum() == 0:
                param.normal_(std=0.02, generator=torch.Generator().manual_seed(0))
    baseline_normal, _ = engine.speak(SENTENCE, voice=voice_clip, style="normal", seed=5)
    guided_asmr, _ = engine.speak(SENTENCE, voice=voice_clip, style="asmr", seed=5)
    monkeypatch.setattr(flow, "cfg", flow.cfg.with_(asmr_cfg_strength=0.0))
    unguided_asmr, _ = engine.speak(SENTENCE, voice=voice_clip, style="asmr", seed=5)
    normal, _ = engine.speak(SENTENCE, voice=voice_clip, style="normal", seed=5)
    assert np.array_equal(normal, baseline_normal)
    assert not np.array_equal(unguided_asmr, guided_asmr)
    monkeypatch.setattr(engine, "config", replace(engine.config, cfg_strength=0.0))
    forced_off, _ = engine.speak(SENTENCE, voice=voice_clip, style="asmr", seed=5)
    assert np.array_equal(forced_off, unguided_asmr)


def test_a_text_pointer_lm_tells_a_phone_decoder_which_phone_each_token_speaks(bundle_dir, voice_clip, monkeypatch):
    """The LM's pointer positions reach the decoder as its own phone ids (its vocabulary in another order than
    the LM's), one per token; and the decoder's phone table then shapes the audio."""
    import torch

    from deepasmr.flow import FlowDecoder
    from deepasmr.pipeline import DeepASMR

    engine = DeepASMR.load(bundle_dir)
    b = engine.bundle
    b.lm.add_pointer()
    symbols = list(b.text_tokenizer.symbols)
    told = FlowDecoder(b.flow.cfg.with_(phone_vocab=tuple(reversed(symbols))))
    told.load_state_dict(b.flow.state_dict(), strict=False)
    with torch.no_grad():  # the fixture's decoder is untrained: zero output layers would hide any condition
        for name, param in told.named_parameters():
            if param.abs().sum() == 0 and "phones" not in name:
                param.normal_(std=0.02, generator=torch.Generator().manual_seed(0))
    b.flow = told
    calls = []
    generate = told.generate
    monkeypatch.setattr(told, "generate", lambda tokens, *a, **kw: calls.append((tokens, kw["phones"]))
                        or generate(tokens, *a, **kw))
    plain, _ = engine.speak("Hello there.", voice_clip, "asmr", seed=3)
    tokens, phones = calls[-1]
    assert phones is not None and phones.shape == tokens.shape
    said = [told.cfg.phone_vocab[int(i)] for i in phones]
    text = [symbols[i] for i in b.text_tokenizer.encode("Hello there.", "en")]
    assert said[0] == text[0] and all(s in text for s in said)

    with torch.no_grad():
        told.net.tokens.phones.weight[:-1].normal_(std=1.0, generator=torch.Generator().manual_seed(1))
    shaped, _ = engine.speak("Hello there.", voice_clip, "asmr", seed=3)
    assert not np.allclose(plain, shaped, atol=1e-4)


def test_the_speaker_prompt_is_cut_to_max_prompt_seconds(engine, voice_clip):
    from dataclasses import replace

    import torch

    from deepasmr.audio import load_audio
    from deepasmr.pipeline import DeepASMR

    wav, _ = load_audio(voice_clip, engine.bundle.mel_config.sample_rate)
    whole, whole_tokens = engine.mel_tokens(wav)
    cut = DeepASMR(engine.bundle, replace(engine.config, max_prompt_seconds=1.0))
    mel, tokens = cut.mel_tokens(wav)
    ratio, rate = engine.bundle.flow.cfg.token_ratio, engine.bundle.mel_config.frame_rate
    assert whole.shape[-1] > 2 * rate  # the clip is longer than the cut, so the cut shows
    assert mel.shape[-1] == len(tokens) * ratio <= rate
    assert torch.equal(mel, whole[:, : mel.shape[-1]])  # the clip's start, not another window
    assert len(tokens) < len(whole_tokens)


def test_best_of_n_keeps_one_draw_per_sentence_reproducibly(engine, voice_clip):
    from dataclasses import replace

    from deepasmr.pipeline import DeepASMR

    best3 = DeepASMR(engine.bundle, replace(engine.config, candidates=3))
    a = best3.speak_detailed(LONG, voice_clip, "asmr", seed=2)
    b = best3.speak_detailed(LONG, voice_clip, "asmr", seed=2)
    assert np.array_equal(a.wav, b.wav) and len(a.sentences) == 3
    kept = [n for n in a.notes if n.startswith("best of 3 token samples per sentence")]
    assert len(kept) == 1 and all(str(i) in "012" for i in kept[0].split("[")[1].rstrip("]").split(", "))
    assert engine.with_config(candidates=engine.config.candidates) is engine
    sibling = engine.with_config(candidates=1)
    assert sibling.bundle is engine.bundle and sibling.transcripts is engine.transcripts
    assert sibling.config.candidates == 1 and engine.config.candidates == 8
    refs = best3._reference_phones(a.sentences, best3.encode_text(LONG)[1], "en")
    assert all(len(r) > 5 and 0 not in r and 1 not in r for r in refs)  # real phones: no blank, no unknown
