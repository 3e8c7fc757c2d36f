"""Speaker embeddings on real synthesised voices: identity beats sentence, whisper doesn't break it."""

from __future__ import annotations

import numpy as np
import pytest

from deepasmr.errors import AudioError
from deepasmr.speaker.embedding import EMBEDDING_DIM, cosine, embed, embed_file, get_encoder


@pytest.fixture(scope="module")
def embs(voices):
    return {name: embed_file(path) for name, path in voices.items()}


def test_embeddings_are_unit_256d(embs):
    for vec in embs.values():
        assert vec.shape == (EMBEDDING_DIM,)
        assert np.isfinite(vec).all()
        assert abs(np.linalg.norm(vec) - 1) < 1e-4


def test_same_voice_beats_cross_voice(embs):
    for voice in ("slt", "awb", "rms"):
        same = cosine(embs[f"{voice}_0"], embs[f"{voice}_1"])
        others = [cosine(embs[f"{voice}_0"], embs[f"{o}_1"]) for o in ("slt", "awb", "rms") if o != voice]
        assert same > max(others), (voice, same, others)


def test_whisper_is_embedded(embs):
    # webrtcvad may reject whispered frames; the energy fallback must still give a usable embedding.
    assert 0 < cosine(embs["whisper_2"], embs["whisper_2"]) <= 1 + 1e-6


def test_encoder_is_a_singleton():
    assert get_encoder() is get_encoder()


def test_cosine_checks():
    a = np.array([1.0, 0.0])
    assert cosine(a, a) == pytest.approx(1.0)
    assert cosine(a, np.array([0.0, 1.0])) == pytest.approx(0.0)
    assert cosine(a, np.zeros(2)) == 0.0
    with pytest.raises(ValueError):
        cosine(a, np.ones(3))


def test_bad_input():
    sr = 16_000
    with pytest.raises(AudioError):
        embed(np.zeros(0, dtype=np.float32), sr)
    with pytest.raises(AudioError):
        embed(np.full(sr, np.nan, dtype=np.float32), sr)
    with pytest.raises(AudioError):  # 0.1 s of tone: too little to say whose voice it is
        embed(0.1 * np.sin(np.arange(sr // 10) / 5).astype(np.float32), sr)
