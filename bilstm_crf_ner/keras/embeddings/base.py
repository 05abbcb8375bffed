"""The contract between an embedding and the tagger.

An embedding owns everything about the input side of a model: how raw text is split into
tokens, the vocabulary built in ``fit``, how tokens become integer ids, the Keras layer that
turns ids into one vector per token, and, for encoders with a length limit, how long texts are
cut into windows. The tagger only sees padded id matrices (0 = padding).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...core.errors import ModelLoadError
from ...core.text import TOKENIZERS

_REGISTRY: dict[str, type] = {}


def register(cls):
    _REGISTRY[cls.__name__] = cls
    return cls


def embedding_from_config(config: dict):
    """Rebuild an embedding from ``{"class_name": ..., "config": ...}`` (its encoder, with the
    vocabularies, is loaded separately: :func:`bilstm_crf_ner.core.encoders.load_encoder`)."""
    try:
        cls = _REGISTRY[config["class_name"]]
    except KeyError:
        raise ModelLoadError(f"unknown embedding type {config.get('class_name')!r}") from None
    return cls.from_config(config["config"])


class Embedding:
    """Base class. Subclasses implement ``build_vocab``, ``encoder``, ``set_encoder``,
    ``build_layer``, ``sample_tokens`` and ``get_config``.

    An embedding is a :class:`~bilstm_crf_ner.core.predictor.SentenceEncoder` on the Keras
    side; its TensorFlow-free ``encoder`` (built in ``fit``) is what a saved model and an
    export keep, and what the runtime loads.
    """

    #: ``"char"`` or ``"word"``: how raw strings are split and entity text is joined.
    token_unit = "char"

    def build_vocab(self, sentences: Sequence[Sequence[str]]) -> None:
        raise NotImplementedError

    @property
    def encoder(self):
        """The TensorFlow-free sentence encoder (:mod:`bilstm_crf_ner.core.encoders`); raises
        :class:`NotFittedError` before the vocabulary exists."""
        raise NotImplementedError

    def set_encoder(self, encoder) -> None:
        """Use ``encoder`` (a loaded one: :func:`bilstm_crf_ner.core.encoders.load_encoder`)."""
        raise NotImplementedError

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids ``[S, ...]`` (int32) of one sentence; channel 0 is 0 only at padding.

        ``S`` is ``len(tokens)`` for lookup embeddings; subword encoders may use more rows.
        """
        return self.encoder.encode(tokens)

    def encode_many(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """:meth:`encode` of each sentence (encoders may do a batch faster at once)."""
        return self.encoder.encode_many(sentences)

    def windows(self, tokens: Sequence[str], cut_ok=None) -> list[tuple[int, int]]:
        """Token ranges to encode separately (see :mod:`bilstm_crf_ner.core.windows`); one range
        unless the encoder has a length limit."""
        return self.encoder.windows(tokens, cut_ok)

    def build_layer(self):
        """A Keras layer mapping padded ids ``[B, S, ...]`` to vectors ``[B, T, D]`` (``T`` the
        longest sentence in tokens), with a ``sequence_lengths(ids)`` method giving each row's
        number of tokens."""
        raise NotImplementedError

    def sample_tokens(self, rng: np.random.Generator, length: int) -> list[str]:
        """``length`` random tokens the embedding knows (inputs for export checks and timing)."""
        raise NotImplementedError

    def tokenize(self, text: str):
        """Split a raw string into ``(tokens, offsets)``."""
        return TOKENIZERS[self.token_unit](text)

    @property
    def joiner(self) -> str:
        """String placed between tokens to rebuild entity text from a token list."""
        return "" if self.token_unit == "char" else " "

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def serialize(self) -> dict:
        return {"class_name": type(self).__name__, "config": self.get_config()}
