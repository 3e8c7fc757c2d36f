"""Small LM builders shared by the LM tests (the tiny preset, shrunk so each test runs in seconds)."""

from __future__ import annotations

import pytest
import torch

from deepasmr.lm import SpeechLM, lm_preset

PHONES = [f"p{i}" for i in range(30)]
SPEECH_VOCAB = 64


def small_config(**overrides):
    shape = dict(hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2, intermediate_size=128,
                 speech_vocab_size=SPEECH_VOCAB)
    shape.update(overrides)
    return lm_preset("tiny", **shape).with_phones(PHONES)


def small_model(seed: int = 0, **overrides) -> SpeechLM:
    torch.manual_seed(seed)
    return SpeechLM.from_config(small_config(**overrides)).eval()


def random_batch(n: int, seed: int = 0, text_len: int = 8, speech_len: int = 12, prompt: bool = True) -> dict:
    """Right-padded batch with varied lengths (row b is shorter than row 0 by b)."""
    g = torch.Generator().manual_seed(seed)
    lens = lambda full: torch.tensor([max(1, full - b) for b in range(n)])  # noqa: E731
    batch = {
        "text": torch.randint(1, len(PHONES) + 1, (n, text_len), generator=g),
        "text_lens": lens(text_len),
        "speech": torch.randint(0, SPEECH_VOCAB, (n, speech_len), generator=g),
        "speech_lens": lens(speech_len),
        "style": torch.arange(n) % 2,
    }
    if prompt:
        batch.update(
            prompt_text=torch.randint(1, len(PHONES) + 1, (n, text_len), generator=g),
            prompt_text_lens=lens(text_len),
            prompt_speech=torch.randint(0, SPEECH_VOCAB, (n, speech_len), generator=g),
            prompt_speech_lens=lens(speech_len),
        )
    return batch


@pytest.fixture
def make_model():
    return small_model


@pytest.fixture
def make_config():
    return small_config


@pytest.fixture
def make_batch():
    return random_batch
