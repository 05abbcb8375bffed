"""Pretrained token vectors in the word2vec text format.

The file has an optional header line ``"<count> <dim>"``, then one ``"<token> <v1> ... <vdim>"``
line per token, separated by spaces (UTF-8; gzip when the name ends in ``.gz``). Malformed
lines raise :class:`~bilstm_crf_ner.core.errors.CorpusFormatError` with the file and line.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
>>> _ = open(path, "w", encoding="utf-8").write("2 3\\n北 0.1 0.2 0.3\\n京 1 2 3\\n")
>>> tokens, matrix = read_word2vec(path)
>>> tokens, matrix.shape
(['北', '京'], (2, 3))
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..core.errors import CorpusFormatError


def read_word2vec(path, keep=None, max_tokens: int | None = None) -> tuple[list[str], np.ndarray]:
    """``(tokens, vectors [n, dim] float32)`` from a word2vec text file.

    ``keep(token) -> bool`` selects tokens (e.g. those of a vocabulary); ``max_tokens`` stops
    after that many kept tokens (files list frequent tokens first). A repeated token keeps its
    first vector.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"vector file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    tokens, rows, seen, dim, number = [], [], set(), None, 0
    with opener(path, "rt", encoding="utf-8", errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip("\r\n").split(" ")
                if parts and parts[-1] == "":
                    parts.pop()
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    dim = int(parts[1])
                    continue
                if not parts or (len(parts) == 1 and not parts[0]):
                    continue
                if dim is None:
                    dim = len(parts) - 1
                if len(parts) != dim + 1 or dim < 1:
                    raise CorpusFormatError(path, number, f"expected a token and {dim} numbers, found {len(parts) - 1} fields")
                token = parts[0]
                if token in seen or (keep is not None and not keep(token)):
                    continue
                try:
                    rows.append(np.array(parts[1:], dtype=np.float32))
                except ValueError:
                    raise CorpusFormatError(path, number, "a vector value is not a number") from None
                tokens.append(token)
                seen.add(token)
                if max_tokens is not None and len(tokens) >= max_tokens:
                    break
        except UnicodeDecodeError as exc:
            raise CorpusFormatError(path, number + 1, f"not UTF-8: {exc}") from None
    if dim is None:
        raise CorpusFormatError(path, 1, "no vectors in the file")
    return tokens, np.stack(rows) if rows else np.zeros((0, dim), np.float32)
