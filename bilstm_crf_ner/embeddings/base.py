"""The contract between an embedding and the tagger.

An embedding owns everything about the input side of a model: how raw text is split into
tokens, the vocabulary built in ``fit``, how tokens become integer ids, and the Keras layer
that turns ids into vectors. The tagger only sees padded id matrices (0 = padding).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelLoadError
from ..text import TOKENIZERS

_REGISTRY: dict[str, type] = {}


def register(cls):
    _REGISTRY[cls.__name__] = cls
    return cls


def embedding_from_config(config: dict, folder=None):
    """Rebuild an embedding from ``{"class_name": ..., "config": ...}`` and its saved assets."""
    try:
        cls = _REGISTRY[config["class_name"]]
    except KeyError:
        raise ModelLoadError(f"unknown embedding type {config.get('class_name')!r}") from None
    embedding = cls.from_config(config["config"])
    if folder is not None:
        embedding.load_assets(Path(folder))
    return embedding


class Embedding:
    """Base class. Subclasses implement ``build_vocab``, ``encode`` and ``build_layer``."""

    #: ``"char"`` or ``"word"``: how raw strings are split and entity text is joined.
    token_unit = "char"

    def build_vocab(self, sentences: Sequence[Sequence[str]]) -> None:
        raise NotImplementedError

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids ``[len(tokens)]`` (int32, never 0) of one sentence."""
        raise NotImplementedError

    def build_layer(self):
        """A Keras layer mapping ids ``[B, T]`` to vectors ``[B, T, D]``."""
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

    def save_assets(self, folder: Path) -> None:
        """Write vocabulary files into ``folder``."""

    def load_assets(self, folder: Path) -> None:
        """Read what :meth:`save_assets` wrote."""
