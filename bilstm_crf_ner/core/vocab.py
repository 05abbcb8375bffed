"""Token vocabularies: string <-> id with reserved padding and unknown ids.

>>> vocab = Vocabulary.build([["a", "b", "a"], ["c"]], min_count=2)
>>> vocab.tokens
['<pad>', '<unk>', 'a']
>>> vocab.encode(["a", "z"]).tolist()
[2, 1]
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import numpy as np

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


class Vocabulary:
    """An ordered list of tokens; id 0 is padding and id 1 stands for unknown tokens."""

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary must start with {PAD!r}, {UNK!r}")
        self.tokens = tokens
        self._index = {token: i for i, token in enumerate(tokens)}
        if len(self._index) != len(tokens):
            raise ValueError("vocabulary tokens must be unique")

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 1, max_size: int | None = None):
        """Count tokens in one pass; keep those seen ``min_count`` times, most frequent first."""
        counts = Counter()
        for tokens in sentences:
            counts.update(tokens)
        return cls.from_counts(counts, min_count, max_size)

    @classmethod
    def from_counts(cls, counts: Counter, min_count: int = 1, max_size: int | None = None):
        """Vocabulary of the tokens in ``counts`` seen at least ``min_count`` times."""
        kept = [t for t, c in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if c >= min_count]
        kept = [t for t in kept if t not in (PAD, UNK)]
        if max_size is not None:
            kept = kept[: max(0, max_size - 2)]
        return cls([PAD, UNK] + kept)

    def __len__(self):
        return len(self.tokens)

    def __contains__(self, token):
        return token in self._index

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        get = self._index.get
        return np.fromiter((get(t, UNK_ID) for t in tokens), dtype=np.int32, count=len(tokens))

    def to_list(self) -> list[str]:
        return list(self.tokens)
