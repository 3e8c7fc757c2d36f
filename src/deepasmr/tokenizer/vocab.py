"""The phone vocabulary of the CTC head: built from the training manifest, stored with the model."""

from __future__ import annotations

from collections.abc import Iterable

BLANK = "<blank>"
UNK = "<unk>"


class PhoneVocab:
    def __init__(self, phones: Iterable[str]) -> None:
        symbols = [p for p in phones if p not in (BLANK, UNK)]
        self.symbols = [BLANK, UNK, *symbols]  # blank is 0 (CTC), unknown phones of new text map to 1
        self.index = {s: i for i, s in enumerate(self.symbols)}

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> PhoneVocab:
        phones = set()
        for row in rows:
            phones.update(row["phonemes"].split())
        return cls(sorted(phones))

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, phones: str | list[str]) -> list[int]:
        items = phones.split() if isinstance(phones, str) else phones
        return [self.index.get(p, 1) for p in items]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.symbols[i] for i in ids if i > 0]
