"""WORLD transforms and ASMR delivery on real synthesised speech."""

import numpy as np
import pyworld as pw
import soundfile as sf

from deepasmr.data.delivery import DeliveryConfig, finish, high_shelf
from deepasmr.data.world_fx import VoiceTransform, apply_transform, stretch_frames, warp_envelope


def test_warp_moves_a_spectral_peak():
    sp = np.full((2, 513), 1e-4)
    sp[:, 100] = 1.0
    assert np.argmax(warp_envelope(sp, 1.1)[0]) == 110
    assert np.argmax(warp_envelope(sp, 0.9)[0]) == 90


def test_stretch_changes_length_only():
    f0, sp, ap = np.arange(100.0), np.ones((100, 5)), np.zeros((100, 5))
    f0s, sps, aps = stretch_frames(f0, sp, ap, 1.2)
    assert len(f0s) == sps.shape[0] == aps.shape[0] == 120


def test_whisper_transform_is_unvoiced_and_slower(synth_wav):
    wav, sr = sf.read(synth_wav(voice="slt"), dtype="float32")
    out = apply_transform(wav, sr, VoiceTransform(warp=1.05, stretch=1.2, whisper=True))
    assert abs(out.size / wav.size - 1.2) < 0.05
    f0_in, _ = pw.dio(wav.astype(np.float64), sr)
    f0_out, _ = pw.dio(out.astype(np.float64), sr)
    assert (f0_in > 0).mean() > 0.3
    assert (f0_out > 0).mean() < 0.1 * (f0_in > 0).mean()


def test_pitch_transform_raises_f0(synth_wav):
    wav, sr = sf.read(synth_wav(voice="rms"), dtype="float64")
    out = apply_transform(wav.astype(np.float32), sr, VoiceTransform(pitch=1.25)).astype(np.float64)
    f0_in, _ = pw.dio(wav, sr)
    f0_out, _ = pw.dio(out, sr)
    ratio = np.median(f0_out[f0_out > 0]) / np.median(f0_in[f0_in > 0])
    assert 1.15 < ratio < 1.35


def test_high_shelf_lifts_highs_only():
    sr = 22050
    t = np.arange(sr) / sr
    low, high = np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 8000 * t)
    cfg = DeliveryConfig()

    def gain(x):
        y = high_shelf(x, sr, cfg.shelf_hz, cfg.shelf_gain_db, cfg.shelf_slope)
        return 20 * np.log10(np.std(y[2000:]) / np.std(x))

    assert abs(gain(low)) < 0.5
    assert abs(gain(high) - cfg.shelf_gain_db) < 0.7


def test_asmr_is_softer_than_normal(synth_wav):
    wav, sr = sf.read(synth_wav(), dtype="float32")
    normal, asmr = finish(wav, sr, "normal"), finish(wav, sr, "asmr")
    drop = 20 * np.log10(np.std(asmr) / np.std(normal))
    assert drop < -6
