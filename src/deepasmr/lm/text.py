"""Text -> LM text ids: phones through a vocabulary stored with the model (tiny), or Qwen BPE (paper).

Both tokenizers take (text, language) so callers need not know which preset they talk to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from deepasmr.errors import ModelFilesError
from deepasmr.lm.config import UNK_SYMBOL, UNK_TEXT, LMConfig


class PhoneTokenizer:
    """Phone symbols <-> ids. Id UNK_TEXT stands for any symbol not seen when the vocabulary was built."""

    def __init__(self, symbols: Sequence[str]):
        if not symbols or symbols[UNK_TEXT] != UNK_SYMBOL:
            raise ValueError(f"a phone vocabulary starts with {UNK_SYMBOL!r}")
        self.symbols = list(symbols)
        self._index = {s: i for i, s in enumerate(self.symbols)}

    @staticmethod
    def vocabulary(phone_lists: Iterable[Sequence[str]], min_count: int = 1) -> list[str]:
        """Sorted symbols seen at least `min_count` times (sorted so a rebuild gives the same ids)."""
        counts = Counter(p for phones in phone_lists for p in phones)
        return sorted(p for p, n in counts.items() if n >= min_count and p != UNK_SYMBOL)

    def __len__(self) -> int:
        return len(self.symbols)

    def encode_phones(self, phones: Sequence[str]) -> list[int]:
        return [self._index.get(p, UNK_TEXT) for p in phones]

    def encode(self, text: str, language: str) -> list[int]:
        from deepasmr.frontend import phonemize

        return self.encode_phones(phonemize(text, language))

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.symbols[i] for i in ids]


class BPETokenizer:
    """The Qwen BPE tokenizer of a local model folder; text is normalised first (numbers to words)."""

    def __init__(self, local_dir: str):
        from transformers import AutoTokenizer

        try:
            self._tok = AutoTokenizer.from_pretrained(local_dir, local_files_only=True)
        except OSError as err:
            raise ModelFilesError(f"no tokenizer in {local_dir}: {err}") from err

    def __len__(self) -> int:
        return len(self._tok)

    def encode(self, text: str, language: str) -> list[int]:
        from deepasmr.frontend import normalize_text

        return list(self._tok.encode(normalize_text(text, language), add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids))


def text_tokenizer(cfg: LMConfig) -> PhoneTokenizer | BPETokenizer:
    if cfg.text_unit == "phone":
        if not cfg.phones:
            raise ModelFilesError("this LM config has no phone vocabulary (build it with LMConfig.with_phones)")
        return PhoneTokenizer(cfg.phones)
    if cfg.text_unit == "bpe":
        if not cfg.pretrained_dir:
            raise ModelFilesError("a BPE text unit needs pretrained_dir (the local Qwen folder)")
        return BPETokenizer(cfg.pretrained_dir)
    raise ValueError(f"unknown text unit {cfg.text_unit!r}: expected 'phone' or 'bpe'")
