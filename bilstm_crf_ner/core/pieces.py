"""What every encoder for a pretrained subword model shares: windows of limited length over
a sentence whose tokens become one or more pieces each.

An aligner (:class:`~bilstm_crf_ner.core.wordpiece.WordPieceAligner` for BERT vocabularies,
:class:`~bilstm_crf_ner.core.subword.SubwordAligner` for any Hugging Face ``tokenizer.json``)
turns a token list into an ``[S, 2]`` int32 array: channel 0 the piece ids (0 = padding),
channel 1 in its first ``len(tokens)`` rows the position of each token's first piece. A
:class:`PieceEncoder` adds the length limit: texts longer than ``sequence_length`` pieces are
cut into overlapping windows (:mod:`bilstm_crf_ner.core.windows`) and merged back after
scoring, so nothing is truncated. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from .errors import InputError
from .text import TOKENIZERS
from .windows import plan_windows


def aligned_ids(pieces: Sequence[Sequence[int]], prefix: Sequence[int], suffix: Sequence[int],
                id_offset: int = 0) -> np.ndarray:
    """The ``[S, 2]`` int32 layout of one sentence (module docstring): ``prefix``, every token's
    ``pieces`` and ``suffix`` in channel 0 (each id + ``id_offset``), the first-piece position of
    each token in channel 1.

    >>> aligned_ids([(7,), (8, 9)], prefix=[2], suffix=[3]).tolist()
    [[2, 1], [7, 2], [8, 0], [9, 0], [3, 0]]
    """
    flat = list(prefix) + [i for p in pieces for i in p] + list(suffix)
    out = np.zeros((len(flat), 2), dtype=np.int32)
    out[:, 0] = np.asarray(flat, dtype=np.int64) + id_offset
    if pieces:
        out[: len(pieces), 1] = np.cumsum([0] + [len(p) for p in pieces[:-1]]) + len(prefix)
    return out


class PieceAligner(Protocol):
    """Maps user tokens to a pretrained model's pieces (see the module docstring)."""

    #: Pieces the model adds around every sequence (e.g. ``[CLS]`` and ``[SEP]``).
    special_pieces: int
    #: The unknown piece's id (``None`` for vocabularies without one, e.g. byte-level BPE).
    unk: int | None

    def pieces(self, tokens: Sequence[str], unit: str) -> list[tuple[int, ...]]: ...

    def piece_counts(self, tokens: Sequence[str], unit: str) -> list[int]: ...

    def encode(self, tokens: Sequence[str], unit: str) -> np.ndarray: ...

    def known_tokens(self, unit: str) -> list[str]:
        """Tokens of the vocabulary that are one piece each (inputs for export checks and timing)."""


class PieceEncoder:
    """A sentence encoder for a pretrained model of limited length: ids of one window, and the
    windows of a text. Subclasses add ``describe`` / ``save`` / ``load``.

    Args:
        aligner: the :class:`PieceAligner` of the model's vocabulary.
        unit: ``"char"`` or ``"word"``, how raw text is split into user tokens.
        sequence_length: pieces per window, special pieces included.
        window_overlap: pieces shared by consecutive windows.
    """

    def __init__(self, aligner: PieceAligner, unit: str, sequence_length: int, window_overlap: int):
        self.aligner, self.unit = aligner, unit
        self.sequence_length, self.window_overlap = int(sequence_length), int(window_overlap)

    @property
    def token_unit(self) -> str:
        return self.unit

    @property
    def joiner(self) -> str:
        return "" if self.unit == "char" else " "

    def tokenize(self, text: str):
        return TOKENIZERS[self.unit](text)

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        ids = self.aligner.encode(tokens, self.unit)
        if len(ids) > self.sequence_length:
            raise InputError(f"{len(tokens)} tokens make {len(ids)} pieces, more than sequence_length "
                             f"{self.sequence_length}; split the text with windows() first")
        return ids

    def encode_many(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return [self.encode(tokens) for tokens in sentences]

    def windows(self, tokens: Sequence[str], cut_ok=None) -> list[tuple[int, int]]:
        counts = self.aligner.piece_counts(tokens, self.unit)
        return plan_windows(counts, self.sequence_length - self.aligner.special_pieces, self.window_overlap, cut_ok)
