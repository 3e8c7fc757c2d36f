"""Voice store: a voice appears whole or not at all, and a crash leaves nothing a listing would show; and the
catalog's `default` voice (configurable, with a JSON sidecar, a clear error when absent)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from deepasmr.serve import voices as voices_mod
from deepasmr.serve.catalog import Catalog
from deepasmr.serve.errors import ApiError
from deepasmr.serve.voices import VoiceLimitError, VoiceStore


def tone(seconds=1.0, sr=16000):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), sr


def test_add_get_delete_round_trip(tmp_path):
    store = VoiceStore(tmp_path)
    wav, sr = tone()
    v = store.add(wav, sr, style="normal", name="  ", transcript="Hello there.", filename="a.wav")
    assert v.name == v.id  # a blank name falls back to the id
    got, got_sr = sf.read(store.clip_path(v.id), dtype="float32")
    assert got_sr == sr and np.allclose(got, wav, atol=1e-4)
    assert [x.id for x in VoiceStore(tmp_path).voices()] == [v.id]
    assert store.delete(v.id) and store.get(v.id) is None and not store.delete(v.id)
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_write_leaves_no_voice_and_no_folder(tmp_path, monkeypatch):
    store = VoiceStore(tmp_path)

    def die(path, data):  # the metadata write fails after the clip was written
        raise OSError("disk full")

    monkeypatch.setattr(voices_mod, "_write_synced", die)
    with pytest.raises(OSError, match="disk full"):
        store.add(*tone(), style="normal")
    assert store.voices() == [] and list(tmp_path.iterdir()) == []


def test_leftovers_of_a_crash_are_invisible_then_swept(tmp_path):
    store = VoiceStore(tmp_path)
    keep = store.add(*tone(), style="asmr")
    half = tmp_path / ".tmp-voice_dead00000000-1234"  # what a kill -9 mid-upload leaves
    half.mkdir()
    (half / "clip.wav").write_bytes(b"RIFF\x00\x00")
    trash = tmp_path / f".trash-{keep.id}-ffff"
    trash.mkdir()
    no_meta = tmp_path / "voice_nometa00000"  # a folder without voice.json is no voice
    no_meta.mkdir()
    assert [v.id for v in store.voices()] == [keep.id]
    VoiceStore(tmp_path)  # the next server start
    assert not half.exists() and not trash.exists()
    assert [v.id for v in VoiceStore(tmp_path).voices()] == [keep.id]


def test_ids_cannot_escape_the_store(tmp_path):
    store = VoiceStore(tmp_path / "voices")
    (tmp_path / "secret").mkdir()
    for bad in ("../secret", "..", "/etc", "a/b", "", ".tmp-x", "x" * 65):
        assert store.get(bad) is None and store.clip_path(bad) is None and not store.delete(bad)
    assert (tmp_path / "secret").is_dir()


def test_voice_limit(tmp_path):
    store = VoiceStore(tmp_path, max_voices=1)
    store.add(*tone(), style="normal")
    with pytest.raises(VoiceLimitError, match="1 voices"):
        store.add(*tone(), style="normal")


def test_default_voice_reads_its_sidecar_and_degrades_clearly(tmp_path):
    wav, sr = tone(1.5)
    clip = tmp_path / "mine.wav"
    sf.write(clip, wav, sr)
    (tmp_path / "mine.json").write_text('{"text": "Hello there.", "style": "normal", "language": "en"}')
    store = VoiceStore(tmp_path / "voices")
    ref = Catalog(store, None, clip).resolve("default")
    assert (ref.clip, ref.transcript, ref.style, ref.language) == (clip, "Hello there.", "normal", "en")
    for missing in (Catalog(store, None, tmp_path / "gone.wav"), Catalog(store, None, None)):
        with pytest.raises(ApiError) as err:
            missing.resolve("default")
        assert err.value.status == 400 and "voice 'default' is not available" in err.value.message
    assert "gone.wav does not exist" in Catalog(store, None, tmp_path / "gone.wav").default_note
