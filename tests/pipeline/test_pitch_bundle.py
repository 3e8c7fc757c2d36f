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
    assert a2n.task == "A2N" and any("register of the task prompt" in n for n in a2n.notes)
    n2a = engine.speak_detailed(SENTENCE, voice_clip, "asmr", seed=0)
    assert not any(n.startswith("F0 predicted") for n in n2a.notes)
