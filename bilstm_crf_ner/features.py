"""Token features as integer ids: the token itself and, optionally, its bigram.

A bigram feature pairs each token with the next one (the last with an end marker), the
feature that lifts character BiLSTM-CRF taggers on Chinese NER (Zhang & Yang 2018). The
encoder is pure numpy so the exported runtime computes exactly the ids the model trained on.

>>> from bilstm_crf_ner.vocab import Vocabulary
>>> encoder = TokenEncoder(Vocabulary.build([list("北京")]), Vocabulary.build([bigrams(list("北京"))]))
>>> encoder.encode(list("北京")).tolist()
[[3, 3], [2, 2]]
>>> bigrams(["北", "京"])
['北\\x1f京', '京\\x1f</s>']
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .vocab import Vocabulary

END = "</s>"
SEPARATOR = "\x1f"


def bigrams(tokens: Sequence[str]) -> list[str]:
    """``token[i] + SEPARATOR + token[i+1]`` for each position, the last paired with ``END``."""
    return [a + SEPARATOR + b for a, b in zip(tokens, list(tokens[1:]) + [END])]


class TokenEncoder:
    """Maps a token list to ids ``[T]`` (tokens only) or ``[T, 2]`` (token id, bigram id)."""

    def __init__(self, vocab: Vocabulary, bigram_vocab: Vocabulary | None = None):
        self.vocab, self.bigram_vocab = vocab, bigram_vocab

    @property
    def channels(self) -> int:
        return 1 if self.bigram_vocab is None else 2

    @property
    def vocab_sizes(self) -> list[int]:
        return [len(self.vocab)] + ([] if self.bigram_vocab is None else [len(self.bigram_vocab)])

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        ids = self.vocab.encode(tokens)
        if self.bigram_vocab is None:
            return ids
        return np.stack([ids, self.bigram_vocab.encode(bigrams(tokens))], axis=1) if len(tokens) else np.zeros((0, 2), np.int32)
