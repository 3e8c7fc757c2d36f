"""A vocoder per output style (deepasmr.vocoder.by_style), and the pitch check that motivated it."""

from __future__ import annotations

import json

import librosa
import pytest
import torch

from deepasmr.audio import log_mel
from deepasmr.errors import ModelFilesError
from deepasmr.eval.voicing import pitch_agreement, voicing_track
from deepasmr.pipeline import default_model_dir, load_bundle
from deepasmr.vocoder import VocoderConfig, load_vocoder
from deepasmr.vocoder.by_style import StyleRoutedVocoder


@pytest.fixture(scope="module")
def shipped_vocos():
    return load_vocoder(VocoderConfig(kind="vocos", weights=default_model_dir() / "vocoder"))


def test_each_style_is_rendered_by_its_own_vocoder(clip, hifigan, shipped_vocos):
    routed = StyleRoutedVocoder({"asmr": shipped_vocos, "normal": hifigan})
    wav, _ = clip("espeak_normal")
    mel = log_mel(wav, hifigan.mel_config)
    torch.testing.assert_close(routed.generate(mel, style="normal"), hifigan.generate(mel))
    torch.testing.assert_close(routed.generate(mel), hifigan.generate(mel))  # no style: the pitch keeper
    drawn = []
    for vocoder in (routed, shipped_vocos):  # whisper's phase is drawn at random: same seed, same wave
        torch.manual_seed(0)
        drawn.append(vocoder.generate(mel, style="asmr"))
    torch.testing.assert_close(*drawn)
    assert not torch.allclose(drawn[0][: len(wav)], hifigan.generate(mel)[: len(wav)])


def test_pitch_agreement_tells_a_kept_pitch_from_a_moved_one(clip, copies):
    wav, _ = clip("espeak_normal")
    reference = voicing_track(wav, 22_050)
    kept = pitch_agreement(reference, voicing_track(copies["espeak_normal"], 22_050))
    moved = pitch_agreement(reference, voicing_track(librosa.effects.pitch_shift(wav, sr=22_050, n_steps=5),
                                                     22_050))
    assert kept.n_frames > 20 and moved.n_frames > 20
    assert kept.gpe < 0.1 and kept.median_cents < 50, kept  # HiFi-GAN's copy keeps the pitch
    assert moved.gpe > 0.8 and 400 < moved.median_cents < 600, moved  # 5 semitones = 500 cents


def _bundle_with(tmp_path, vocoder_entry):
    root = tmp_path / "bundle"
    root.mkdir()
    for item in default_model_dir().iterdir():
        (root / item.name).symlink_to(item)
    (root / "bundle.json").unlink()
    record = json.loads((default_model_dir() / "bundle.json").read_text())
    (root / "bundle.json").write_text(json.dumps({**record, "vocoder": vocoder_entry}))
    return root


def test_a_bundle_names_a_vocoder_per_style(tmp_path):
    root = _bundle_with(tmp_path, {"asmr": {"kind": "vocos", "weights": "vocoder"}, "normal": {"kind": "hifigan"}})
    vocoder = load_bundle(root).vocoder
    assert vocoder.kind == "by_style"
    assert {s: v.kind for s, v in vocoder.vocoders.items()} == {"asmr": "vocos", "normal": "hifigan"}


@pytest.mark.parametrize("entry", [{"asmr": {"kind": "vocos", "weights": "vocoder"}, "whisper": {}},
                                   {"asmr": {"kind": "wavenet"}, "normal": {}}, {"normal": {"kind": 3}}, [1]])
def test_a_bad_vocoder_entry_is_named(tmp_path, entry):
    with pytest.raises(ModelFilesError, match="bad vocoder entry"):
        load_bundle(_bundle_with(tmp_path, entry))
