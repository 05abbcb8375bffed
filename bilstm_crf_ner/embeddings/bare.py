"""A trainable lookup-table embedding, the input of a classic character BiLSTM-CRF.

Example:

>>> from bilstm_crf_ner import BLSTMCRFModel, BareEmbedding
>>> model = BLSTMCRFModel(BareEmbedding(embedding_dim=64))
"""

from __future__ import annotations

from collections import Counter

import keras

from ..errors import NotFittedError
from ..vocab import Vocabulary
from .base import Embedding, register


@register
class BareEmbedding(Embedding):
    """Randomly initialised, trainable token vectors.

    Args:
        embedding_dim: size of each token vector.
        min_count: tokens seen fewer times in the training data map to the unknown id, which
            therefore gets trained too.
        max_vocab_size: keep at most this many tokens (most frequent first), or all.
        token_unit: ``"char"``, ``"word"`` or ``"auto"`` (decided in ``fit``: ``"char"`` when
            every training token is a single character). Raw strings passed to ``predict`` are
            split into non-space characters or whitespace-separated words accordingly.
    """

    def __init__(self, embedding_dim: int = 128, min_count: int = 1, max_vocab_size: int | None = None, token_unit: str = "auto"):
        if int(embedding_dim) < 1:
            raise ValueError("embedding_dim must be positive")
        if token_unit not in ("auto", "char", "word"):
            raise ValueError(f"token_unit must be 'auto', 'char' or 'word', not {token_unit!r}")
        self.embedding_dim = int(embedding_dim)
        self.min_count = int(min_count)
        self.max_vocab_size = max_vocab_size
        self._token_unit = token_unit
        self.vocab: Vocabulary | None = None

    @property
    def token_unit(self):
        return "char" if self._token_unit == "auto" else self._token_unit

    @property
    def is_fitted(self):
        return self.vocab is not None

    def build_vocab(self, sentences):
        counts = Counter()
        for tokens in sentences:
            counts.update(tokens)
        if self._token_unit == "auto":
            self._token_unit = "char" if all(len(t) == 1 for t in counts) else "word"
        self.vocab = Vocabulary.from_counts(counts, self.min_count, self.max_vocab_size)

    def encode(self, tokens):
        if self.vocab is None:
            raise NotFittedError("the embedding has no vocabulary yet: call fit first")
        return self.vocab.encode(tokens)

    def build_layer(self):
        if self.vocab is None:
            raise NotFittedError("the embedding has no vocabulary yet: call fit first")
        return keras.layers.Embedding(len(self.vocab), self.embedding_dim, name="token_embedding")

    def get_config(self):
        return dict(embedding_dim=self.embedding_dim, min_count=self.min_count, max_vocab_size=self.max_vocab_size, token_unit=self._token_unit)

    def save_assets(self, folder):
        self._write_json(folder / "vocab.json", self.vocab.to_list())

    def load_assets(self, folder):
        self.vocab = Vocabulary(self._read_json(folder / "vocab.json"))

