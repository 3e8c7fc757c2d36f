"""Unvoiced-frame labels (PYIN at the mel rate), the Vocos voicing head, and its training through the stage."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from deepasmr.audio import MEL_PRESETS, log_mel
from deepasmr.errors import ModelFilesError
from deepasmr.train.config import BatchConfig, ConfigError, TrainerConfig
from deepasmr.train.plots import read_metrics
from deepasmr.train.registry import register_stage
from deepasmr.train.runner import train
from deepasmr.vocoder import VocoderConfig, load_vocoder
from deepasmr.vocoder.gan import GANConfig
from deepasmr.vocoder.stage import SPEC, VocoderDataConfig, VocoderModelConfig, build_model, tiny
from deepasmr.vocoder.vocos import VOCOS_PRESETS, VocosGenerator, save_vocos, warm_start
from deepasmr.vocoder.voicing import frame_labels, frame_unvoiced, label_rows, load_labels, save_labels

TINY_MEL = MEL_PRESETS["tiny"]
SMALL = {"dim": 16, "intermediate_dim": 32, "num_layers": 1}


def test_labels_follow_the_phonation_of_real_clips(clip):
    """PYIN at the mel rate: espeak's whisper voice is almost all unvoiced, its normal voice mostly voiced,
    and there is one flag per log-mel frame."""
    normal, whisper = clip("espeak_normal")[0], clip("espeak_whisper")[0]
    flags_normal = frame_unvoiced(normal, TINY_MEL.sample_rate, TINY_MEL)
    flags_whisper = frame_unvoiced(whisper, TINY_MEL.sample_rate, TINY_MEL)
    assert flags_normal.shape == (log_mel(normal, TINY_MEL).shape[-1],)
    assert flags_whisper.mean() > 0.9
    assert flags_normal.mean() < 0.6


def test_world_tracker_reads_the_pitch_pyin_reads(clip):
    """WORLD (the fast tracker for a whole corpus) against PYIN on a real clip: one value per mel frame, the same
    pitch wherever both hear voicing, and a whisper without any."""
    normal, whisper = clip("espeak_normal")[0], clip("espeak_whisper")[0]
    unvoiced, f0 = frame_labels(normal, TINY_MEL.sample_rate, TINY_MEL, tracker="world")
    _, f0_pyin = frame_labels(normal, TINY_MEL.sample_rate, TINY_MEL)
    assert f0.shape == f0_pyin.shape and np.array_equal(unvoiced, f0 <= 0)
    both = (f0 > 0) & (f0_pyin > 0)
    assert both.mean() > 0.3
    assert np.mean(np.abs(np.log2(f0[both] / f0_pyin[both])) < np.log2(1.2)) > 0.9
    assert (frame_labels(whisper, TINY_MEL.sample_rate, TINY_MEL, tracker="world")[1] > 0).mean() < 0.2
    with pytest.raises(ValueError, match="tracker"):
        label_rows([], tracker="crepe")


def test_labels_round_trip_and_a_bad_file_is_a_clear_error(clip, tmp_path):
    _, path = clip("espeak_normal")
    labels = label_rows([{"id": "a", "path": path}])
    save_labels(labels, tmp_path / "labels.safetensors")
    loaded = load_labels(tmp_path / "labels.safetensors")
    assert np.array_equal(loaded["a"], labels["a"]) and loaded["a"].dtype == np.uint8
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelFilesError, match="voicing labels"):
        load_labels(tmp_path / "bad.safetensors")


def test_the_head_draws_the_phase_of_the_frames_it_calls_unvoiced_only():
    torch.manual_seed(0)
    gen = VocosGenerator(replace(VOCOS_PRESETS["tiny"], voicing_head=True, **SMALL)).eval()
    mel = torch.randn(1, TINY_MEL.n_mels, 12)
    with torch.no_grad():
        # Steer the head: frames 0-5 unvoiced, 6-11 voiced, whatever the mel.
        gen.voicing.net[-1].weight.zero_()
        gen.voicing.net[-1].bias.fill_(-5.0)
        mask = gen.phase_mask(mel)
        assert mask.shape == (1, 12) and not mask.any()
        frames = torch.zeros(1, 12, dtype=torch.bool)
        frames[:, :6] = True
        a, b, plain = gen(mel, frames), gen(mel, frames), gen(mel)
    hop = TINY_MEL.hop_length
    # Overlap-add spreads a frame over n_fft / hop = 4 frames: compare well inside each half.
    assert torch.allclose(a[:, 9 * hop :], plain[:, 9 * hop :], atol=1e-6)
    assert not torch.allclose(a[:, : 3 * hop], b[:, : 3 * hop], atol=1e-5)


def test_a_whole_style_still_draws_every_frame():
    gen = VocosGenerator(replace(VOCOS_PRESETS["tiny"], voicing_head=True, random_phase_styles=("asmr",),
                                 **SMALL)).eval()
    with torch.no_grad():
        gen.voicing.net[-1].weight.zero_()
        gen.voicing.net[-1].bias.fill_(-5.0)  # the head calls every frame voiced
        mask = gen.phase_mask(torch.randn(2, TINY_MEL.n_mels, 5), ["asmr", "normal"])
    assert mask[0].all() and not mask[1].any()


def test_warm_start_from_a_folder_without_a_head(tmp_path):
    save_vocos(VocosGenerator(replace(VOCOS_PRESETS["tiny"], **SMALL)), tmp_path / "voc")
    headed = VocosGenerator(replace(VOCOS_PRESETS["tiny"], voicing_head=True, **SMALL))
    with pytest.raises(ModelFilesError, match="missing"):
        warm_start(headed, tmp_path / "voc")
    warm_start(headed, tmp_path / "voc", new_voicing_head=True)


@pytest.fixture
def labelled_manifest(manifest, clips, tmp_path):
    """The clips' manifest and PYIN labels for all of them but flite_kal16 (when flite is installed)."""
    if not {"espeak_normal", "espeak_whisper"} <= set(clips):
        pytest.skip("needs espeak-ng")
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    labels = tmp_path / "labels.safetensors"
    save_labels(label_rows([r for r in rows if r["id"] != "flite_kal16"]), labels)
    return manifest, labels


def _small_cfg(manifest, labels, out_dir, steps):
    cfg = tiny()
    cfg.trainer = TrainerConfig(out_dir=str(out_dir), max_steps=steps, ckpt_every_n_steps=1000,
                                log_every_n_steps=1, grad_clip=0.0, num_threads=1, progress_bar=False)
    cfg.optim = replace(cfg.optim, lr=3e-3)
    cfg.batch = BatchConfig(max_frames=2 * 32)
    cfg.data = VocoderDataConfig(manifest=str(manifest), segment_frames=32, voicing_labels=str(labels))
    cfg.model = VocoderModelConfig(voicing_head=True, random_phase_styles=("asmr",),
                                   **SMALL, gan=GANConfig(periods=(2,), period_channels=(4, 8),
                                                          resolutions=((512, 128),), spec_channels=4,
                                                          adversarial_start=10**6))
    return cfg


def test_the_stage_trains_the_heads_on_labelled_clips_only(labelled_manifest, tmp_path):
    """Batches carry the PYIN flags and F0 of their crops; the voicing head's BCE and the pitch head's error
    fall as they learn them, and the export loads with both heads."""
    manifest, labels = labelled_manifest
    register_stage(SPEC)
    cfg = _small_cfg(manifest, labels, tmp_path / "run", steps=40)
    cfg.model = replace(cfg.model, pitch_head=True)
    train_set, _ = SPEC.build_data(cfg).build_datasets()
    assert set(train_set.ids) == {"espeak_normal", "espeak_whisper"}  # flite_kal16 has no labels
    _, _, crop, flags, f0 = train_set[train_set.ids.index("espeak_normal")]
    assert flags.shape == f0.shape == (crop.shape[-1] // TINY_MEL.hop_length,)
    # PYIN's F0 rides along: zero on the unvoiced frames, a speaking pitch on the voiced ones.
    assert bool((f0[flags] == 0).all()) and bool((~flags).any())
    assert bool(((f0[~flags] > 60) & (f0[~flags] < 400)).all())
    summary = train("vocoder", cfg)
    assert summary["global_step"] == 40
    series = read_metrics(tmp_path / "run" / "logs")
    for name in ("voicing_bce", "pitch_l1"):
        key = next(k for k in series if k.endswith(name))
        values = [series[key][step] for step in sorted(series[key])]
        assert len(values) >= 30 and np.mean(values[-5:]) < 0.7 * np.mean(values[:5]), name
    vocoder = load_vocoder(VocoderConfig(kind="vocos", weights=tmp_path / "run" / "export"))
    assert vocoder.model.voicing is not None and vocoder.model.pitch is not None


def test_a_head_without_labels_is_a_config_error(labelled_manifest, tmp_path):
    manifest, labels = labelled_manifest
    cfg = _small_cfg(manifest, labels, tmp_path / "run", steps=1)
    cfg.data = replace(cfg.data, voicing_labels=None)
    with pytest.raises(ConfigError, match="voicing_labels"):
        build_model(cfg, SPEC.build_data(cfg))


def test_refitting_the_head_alone_leaves_the_generator_as_it_was(labelled_manifest, tmp_path):
    """gan.voicing_only: a wider head starts afresh from a trained folder and learns; the generator's weights
    come out bit for bit those it started from."""
    manifest, labels = labelled_manifest
    register_stage(SPEC)
    first = _small_cfg(manifest, labels, tmp_path / "first", steps=2)
    train("vocoder", first)
    cfg = _small_cfg(manifest, labels, tmp_path / "refit", steps=30)
    cfg.model = replace(cfg.model, init_weights=str(tmp_path / "first" / "export"), voicing_channels=24,
                        new_voicing_head=True, gan=replace(cfg.model.gan, voicing_only=True))
    train("vocoder", cfg)
    before = load_vocoder(VocoderConfig(kind="vocos", weights=tmp_path / "first" / "export")).model.state_dict()
    after = load_vocoder(VocoderConfig(kind="vocos", weights=tmp_path / "refit" / "export")).model
    assert after.voicing.net[0].out_channels == 24
    assert all(torch.equal(v, before[k]) for k, v in after.state_dict().items() if not k.startswith("voicing."))
    cfg.model = replace(cfg.model, voicing_head=False)
    with pytest.raises(ConfigError, match="voicing_only"):
        build_model(cfg, SPEC.build_data(cfg))
