"""Word lists for lexicon features: plain files (one word per line) and jieba's dictionary."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import CorpusFormatError


def jieba_dictionary() -> str:
    """Path of the dictionary bundled with the ``jieba`` package (349k words with POS types)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the 'jieba' lexicon needs the jieba package: pip install jieba")
    return str(Path(spec.origin).parent / "dict.txt")


def read_lexicon(path, default_type: str = "w") -> dict:
    """A word list file as ``{word: type}``: one word per line, optionally followed by columns
    whose last non-numeric one is the word's type (jieba's ``dict.txt``: ``word freq pos``)."""
    words = {}
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"lexicon file not found: {path}")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                fields = raw.decode("utf-8").split()
            except UnicodeDecodeError as exc:
                raise CorpusFormatError(path, number, f"cannot decode line as utf-8: {exc.reason}") from None
            if not fields:
                continue
            types = [f for f in fields[1:] if not f.replace(".", "", 1).isdigit()]
            words.setdefault(fields[0].lstrip("\ufeff"), types[-1] if types else default_type)
    return words
