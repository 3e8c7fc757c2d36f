"""Audio core on real synthesised speech: loading, conversion, the bad-input matrix, atomic saving."""

import subprocess

import numpy as np
import pytest
import soundfile as sf

from deepasmr.audio import AudioLimits, load_audio, loudness_normalize, save_audio
from deepasmr.errors import AudioError


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Two seconds or so of espeak-ng speech at its native 22.05 kHz."""
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), "The quiet library was warm."], check=True)
    return path


def test_load_resamples_downmixes_and_trims(speech, tmp_path):
    wav, sr = sf.read(speech, dtype="float32")
    pad = np.zeros(sr, dtype=np.float32)  # one second of silence on both sides
    stereo = np.stack([np.concatenate([pad, wav, pad])] * 2, axis=1)
    sf.write(tmp_path / "stereo.flac", stereo, sr)
    out, out_sr = load_audio(tmp_path / "stereo.flac", 16_000)
    reference, _ = load_audio(speech)
    assert out_sr == 16_000 and out.ndim == 1
    # trimmed: the two seconds of padding are gone, the speech stays
    assert abs(out.size / 16_000 - reference.size / sr) < 0.05


@pytest.mark.parametrize(("suffix", "fmt"), [(".ogg", "OGG"), (".mp3", "MP3")])
def test_compressed_formats_load(speech, tmp_path, suffix, fmt):
    target = tmp_path / f"speech{suffix}"
    wav, sr = sf.read(speech, dtype="float32")
    sf.write(target, wav, sr, format=fmt)
    wav, sr = load_audio(target)
    assert sr == 22_050 and wav.size / sr > 1.0


def test_loudness_normalize_hits_target_without_clipping(speech):
    wav, _ = load_audio(speech)
    quiet = loudness_normalize(wav * 0.01, target_dbfs=-23.0)
    loud = loudness_normalize(wav * 10, target_dbfs=-23.0)
    assert np.max(np.abs(loud)) <= 0.95 + 1e-6
    np.testing.assert_allclose(quiet, loud, atol=1e-4)


def _write(path, samples, sr=22_050):
    sf.write(path, samples, sr)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("this is not audio at all " * 20), "not a readable audio file"),
        (lambda p: _write(p, np.zeros(22_050 * 2, dtype=np.float32)), "silent"),
        (lambda p: _write(p, 0.3 * np.sin(np.arange(4_000) / 5.0).astype(np.float32)), "shorter than"),
        (lambda p: _write(p, 0.3 * np.sin(np.arange(22_050 * 70) / 5.0).astype(np.float32)), "longer than"),
        (lambda p: _write(p, 0.3 * np.sin(np.arange(8_000) / 5.0).astype(np.float32), sr=1_000), "sample rate"),
    ],
    ids=["empty", "not-audio", "silent", "too-short", "too-long", "absurd-rate"],
)
def test_bad_audio_gets_a_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=message):
        load_audio(path)


def test_corrupt_wav_is_rejected(speech, tmp_path):
    data = speech.read_bytes()
    broken = tmp_path / "broken.wav"
    broken.write_bytes(data[:30])  # a header cut mid-way
    with pytest.raises(AudioError, match="bad.wav|broken.wav"):
        load_audio(broken)


def test_missing_file():
    with pytest.raises(AudioError, match="no such file"):
        load_audio("/nonexistent/clip.wav")


def test_limits_are_configurable(speech):
    with pytest.raises(AudioError, match="longer than"):
        load_audio(speech, limits=AudioLimits(max_seconds=0.6))


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, speech):
    wav, sr = load_audio(speech)
    out = save_audio(tmp_path / "sub" / "out.wav", wav, sr)
    assert sf.info(out).samplerate == sr
    with pytest.raises(AudioError):
        save_audio(tmp_path / "sub" / "nan.wav", np.full(100, np.nan, dtype=np.float32), sr)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["out.wav"]
