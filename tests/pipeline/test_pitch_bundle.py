"""A bundle whose decoder is told F0: it must carry the F0 predictor, and normal output is given the voice's pitch."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from deepasmr.errors import ModelFilesError
from deepasmr.pipeline import DeepASMR

SENTENCE = "The quiet garden was full of yellow flowers."


@pytest.fixture(scope="module")
def pitch_bundle(bundle_dir, tmp_path_factory):
    from deepasmr.flow import FlowDecoder
    from deepasmr.flow.io import load_flow, save_flow

    root = tmp_path_factory.mktemp("pitch_bundle") / "bundle"
    shutil.copytree(bundle_dir, root)
    cfg = load_flow(root).cfg.with_(pitch_cond=True)
    torch.manual_seed(0)
    save_flow(FlowDecoder(cfg), root)
    return root


def test_a_pitch_told_decoder_needs_the_predictor(pitch_bundle, tmp_path):
    shutil.copytree(pitch_bundle, tmp_path / "b")
    with pytest.raises(ModelFilesError, match="pitch.json"):
        DeepASMR.load(tmp_path / "b")


def test_normal_output_gets_the_clips_register_and_whispers_get_none(pitch_bundle, voice_clip, whisper_clip):
    from deepasmr.audio import MEL_PRESETS, load_audio
    from deepasmr.pitch import PitchConfig, PitchPredictor, save_pitch
    from deepasmr.vocoder.voicing import world_f0

    torch.manual_seed(0)
    save_pitch(PitchPredictor(PitchConfig(dim=16, layers=1)), pitch_bundle)
    engine = DeepASMR.load(pitch_bundle)
    assert engine.bundle.pitch is not None
    normal = engine.speak_detailed(SENTENCE, voice_clip, "normal", seed=0, transcribe_prompt=False)
    notes = [n for n in normal.notes if n.startswith("F0 predicted")]
    assert len(notes) == 1 and "the voice clip" in notes[0]
    mel = MEL_PRESETS["tiny"]
    f0 = world_f0(load_audio(voice_clip, mel.sample_rate)[0], mel.sample_rate, mel)
    hz = float(notes[0].split("around ")[1].split(" Hz")[0])
    assert abs(np.log2(hz / np.exp(np.log(f0[f0 > 0]).mean()))) < 0.05  # the clip's own mean pitch
    assert np.all(np.isfinite(normal.wav))
    a2n = engine.speak_detailed(SENTENCE, whisper_clip, "normal", seed=0)
    assert a2n.task == "A2N"
    # A whisper has no pitch: the register is the normal speech of the pool voice whose whisper is nearest.
    from deepasmr.pitch.model import clip_register
    from deepasmr.speaker.embedding import embed
    from deepasmr.speaker.select import counterpart

    pools = engine.bundle.pools
    voice = counterpart(pools, "asmr", embed(*load_audio(whisper_clip)), "en")
    assert voice is not None
    note = next(n for n in a2n.notes if n.startswith("F0 predicted"))
    assert f"register of {voice.speaker}, the pool voice whose whisper is nearest" in note
    cfg = engine.bundle.pitch.cfg
    own = clip_register(load_audio(pools["normal"].audio_path(voice), mel.sample_rate)[0], mel, cfg)
    assert abs(np.log2(float(note.split("around ")[1].split(" Hz")[0]) / cfg.centre_hz) - own) < 0.02
    n2a = engine.speak_detailed(SENTENCE, voice_clip, "asmr", seed=0)
    assert not any(n.startswith("F0 predicted") for n in n2a.notes)


@pytest.fixture(scope="module")
def two_decoder_bundle(bundle_dir, tmp_path_factory):
    """The tiny bundle plus a decoder for normal speech only (told F0, stored as int8) and its F0 predictor."""
    from deepasmr.flow import FlowDecoder
    from deepasmr.flow.io import load_flow, save_flow
    from deepasmr.pipeline.bundle import NORMAL_FLOW_DIR
    from deepasmr.pitch import PitchConfig, PitchPredictor, save_pitch

    root = tmp_path_factory.mktemp("two_decoders") / "bundle"
    shutil.copytree(bundle_dir, root)
    torch.manual_seed(1)
    normal = FlowDecoder(load_flow(root).cfg.with_(pitch_cond=True))
    with torch.no_grad():  # untrained decoders start with a zero output layer: make this one say something
        for p in normal.net.final.parameters():
            p.normal_(0.0, 0.05)
    save_flow(normal, root / NORMAL_FLOW_DIR, int8=True)
    save_pitch(PitchPredictor(PitchConfig(dim=16, layers=1)), root, dtype=torch.float16)
    return root


def test_each_output_style_is_rendered_by_its_own_decoder(engine, two_decoder_bundle, voice_clip):
    two = DeepASMR.load(two_decoder_bundle)
    b = two.bundle
    assert b.flow_for("asmr") is b.flow and b.flow_for("normal") is b.flow_normal and b.flow_normal is not b.flow
    assert b.flow_normal.cfg.pitch_cond and not b.flow.cfg.pitch_cond
    kw = dict(seed=0, transcribe_prompt=False)
    # Whispers keep the bundle's decoder: the very same samples as the bundle without the second decoder.
    whisper = two.speak_detailed(SENTENCE, voice_clip, "asmr", **kw)
    assert np.array_equal(whisper.wav, engine.speak_detailed(SENTENCE, voice_clip, "asmr", **kw).wav)
    assert not any(n.startswith("F0 predicted") for n in whisper.notes)
    # Normal speech goes through the decoder told F0 (same LM tokens, so the same length, other samples).
    normal = two.speak_detailed(SENTENCE, voice_clip, "normal", **kw)
    plain = engine.speak_detailed(SENTENCE, voice_clip, "normal", **kw)
    assert any(n.startswith("F0 predicted") for n in normal.notes)
    assert normal.wav.shape == plain.wav.shape and not np.array_equal(normal.wav, plain.wav)


def test_a_normal_decoder_that_reads_other_tokens_is_refused(two_decoder_bundle, tmp_path):
    import json

    from deepasmr.pipeline.bundle import NORMAL_FLOW_DIR

    root = tmp_path / "b"
    shutil.copytree(two_decoder_bundle, root)
    path = root / NORMAL_FLOW_DIR / "flow.json"
    cfg = json.loads(path.read_text())
    path.write_text(json.dumps({**cfg, "token_ratio": cfg["token_ratio"] * 2}))
    with pytest.raises(ModelFilesError, match=f"{NORMAL_FLOW_DIR} token_ratio"):
        DeepASMR.load(root)
