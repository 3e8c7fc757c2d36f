"""Phone error rate (PER) of speech, read by a speech tokenizer's CTC phone head: an ASR-free intelligibility
measure for this project's voices.

Why besides WER: the offline Whisper models here misread even the real recordings of the synthetic corpus
(tiny.en WER 30-45 % on the ground truth), and a model that says only some of its words scores a capped WER
near 100 % either way; Mandarin has no good small offline ASR. The tokenizer's CTC head reads the phones of
held-out speakers of this corpus with PER 0.1-0.2. It is a proxy trained on the same family of voices, so read
it beside the ground truth's PER on the same entries, and only compare figures read by the same tokenizer.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from deepasmr.audio import MelConfig, log_mel


class PhoneReader:
    """Audio or log-mel -> the tokenizer's phone ids; text -> reference phone ids in the same vocabulary."""

    def __init__(self, tokenizer_dir: str | os.PathLike):
        from deepasmr.tokenizer.io import load_tokenizer

        self.model, self.vocab, meta = load_tokenizer(tokenizer_dir)
        self.mel_cfg = MelConfig(**meta["mel"])
        self.name = str(tokenizer_dir)

    def phones_of_mel(self, mel: torch.Tensor) -> list[int]:
        """(n_mels, frames) log-mel on the tokenizer's mel definition -> phone ids (CTC greedy)."""
        with torch.inference_mode():
            return self.model.tokens_to_phone_ids(self.model.encode(mel.float()))[0]

    def phones_of_file(self, path: str | os.PathLike) -> list[int]:
        from deepasmr.audio import load_audio

        wav, _ = load_audio(path, self.mel_cfg.sample_rate, trim=False)
        return self.phones_of_mel(log_mel(np.asarray(wav, dtype=np.float32), self.mel_cfg))

    def reference(self, text: str, language: str) -> list[int]:
        from deepasmr.frontend.phonemize import phonemize

        return self.vocab.encode(phonemize(text, language))


def phone_errors(hypothesis: list[int], reference: list[int]) -> dict:
    """Per-utterance counts; pool them with `phone_error_rate`."""
    from deepasmr.tokenizer.analysis import edit_distance

    return {"phone_errors": edit_distance(hypothesis, reference), "n_ref_phones": len(reference)}


def phone_error_rate(rows: list[dict]) -> float | None:
    """Phone edits summed over utterances / reference phones summed (None when nothing was read)."""
    total = sum(r["n_ref_phones"] for r in rows if "n_ref_phones" in r)
    return sum(r["phone_errors"] for r in rows if "n_ref_phones" in r) / total if total else None
