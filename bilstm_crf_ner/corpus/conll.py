"""Reading and writing CoNLL-style column files, and locating the MSRA corpus.

A column file has one token per line, columns separated by spaces or tabs, the token in the
first column and its tag in the last (other columns are ignored), and a blank line between
sentences. ``-DOCSTART-`` lines are skipped. Only ASCII spaces and tabs separate columns, so a
full-width space (U+3000) is a valid token.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.bio")
>>> write_conll(path, [["张", "三", "好"]], [["B-PER", "I-PER", "O"]])
>>> read_conll(path)
([['张', '三', '好']], [['B-PER', 'I-PER', 'O']])
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

from ..core.errors import CorpusFormatError, InputError, TagSchemeError
from ..core.fileio import atomic_file
from ..core.tags import parse_tag

_COLUMN_SEPARATOR = re.compile(r"[ \t]+")
MSRA_ENV = "MSRA_DIR"


def read_conll(path, token_column: int = 0, tag_column: int = -1, encoding: str = "utf-8"):
    """Read a column file into ``(sentences, tags)``: two lists of equally long lists of str.

    Tags are checked to be ``O`` or ``PREFIX-TYPE``; anything else, a line with fewer than two
    columns, or undecodable bytes raise :class:`CorpusFormatError` naming the file and line.
    Tags are returned as written; invalid starts such as a leading ``I-`` are repaired when a
    model converts them (see :mod:`bilstm_crf_ner.core.tags`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus file not found: {path}")
    sentences, tag_sequences = [], []
    tokens, tags = [], []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode(encoding).rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise CorpusFormatError(path, number, f"cannot decode line as {encoding}: {exc.reason}") from None
            if number == 1:
                line = line.lstrip("\ufeff")
            stripped = line.strip(" \t")
            if not stripped:
                if tokens:
                    sentences.append(tokens)
                    tag_sequences.append(tags)
                    tokens, tags = [], []
                continue
            columns = _COLUMN_SEPARATOR.split(stripped)
            if columns[0] == "-DOCSTART-":
                continue
            if len(columns) < 2:
                raise CorpusFormatError(path, number, f"expected a token and a tag, got {line!r}")
            try:
                token, tag = columns[token_column], columns[tag_column]
            except IndexError:
                raise CorpusFormatError(path, number, f"no column {token_column} or {tag_column} in {line!r}") from None
            try:
                parse_tag(tag, "BIOES" if tag[:2] in ("E-", "S-") else "BMES" if tag[:2] == "M-" else "BIO")
            except TagSchemeError as exc:
                raise CorpusFormatError(path, number, str(exc)) from None
            tokens.append(token)
            tags.append(tag)
    if tokens:
        sentences.append(tokens)
        tag_sequences.append(tags)
    return sentences, tag_sequences


def write_conll(path, sentences: Sequence[Sequence[str]], tag_sequences: Sequence[Sequence[str]], separator: str = " "):
    """Write sentences and tags as a column file (atomically: a crash leaves no partial file)."""
    if len(sentences) != len(tag_sequences):
        raise InputError(f"{len(sentences)} sentences but {len(tag_sequences)} tag sequences")
    path = Path(path)
    lines = []
    for index, (tokens, tags) in enumerate(zip(sentences, tag_sequences)):
        if len(tokens) != len(tags):
            raise InputError(f"sentence {index} has {len(tokens)} tokens but {len(tags)} tags")
        for token, tag in zip(tokens, tags):
            if not token or _COLUMN_SEPARATOR.search(token) or "\n" in token:
                raise InputError(f"sentence {index}: token {token!r} cannot be written in a column file")
            lines.append(f"{token}{separator}{tag}\n")
        lines.append("\n")
    with atomic_file(path) as handle:
        handle.writelines(lines)


def msra_files(data_dir=None, download: bool = False) -> dict:
    """Paths of the MSRA ``train.bio`` and ``test.bio`` files.

    Looked for in ``data_dir``, else ``$MSRA_DIR``, else the download cache
    (:mod:`bilstm_crf_ner.datasets`), else, with ``download=True``, downloaded there. Raises
    ``FileNotFoundError`` with a hint when the corpus cannot be found, and
    :class:`~bilstm_crf_ner.core.errors.DatasetError` when the download fails.
    """
    data_dir = data_dir or os.environ.get(MSRA_ENV)
    if not data_dir:
        from . import datasets

        data_dir = datasets.cached_path("msra") or (datasets.download("msra") if download else None)
    if not data_dir:
        raise FileNotFoundError(f"no MSRA corpus given: pass its folder (train.bio, test.bio), set {MSRA_ENV} "
                                "or run `bilstm-crf-ner download msra`")
    files = {split: Path(data_dir) / f"{split}.bio" for split in ("train", "test")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"MSRA corpus incomplete, missing: {', '.join(missing)} "
                                "(to download it instead: bilstm-crf-ner download msra)")
    return files
