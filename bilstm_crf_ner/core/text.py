"""Splitting raw text into tokens with character offsets.

Whitespace is never a token: a raw string's tokens are its non-space characters (character
models) or its whitespace-separated words (word models), each with ``(start, end)`` offsets
into the original string, so predictions map back to the user's text exactly.

>>> char_tokens("小米 手机")
(['小', '米', '手', '机'], [(0, 1), (1, 2), (3, 4), (4, 5)])
>>> word_tokens("New  York")
(['New', 'York'], [(0, 3), (5, 9)])
"""

from __future__ import annotations

import functools
import re

import numpy as np

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s")  # the characters str.isspace() accepts


def char_tokens(text: str):
    if _SPACE.search(text) is None:  # the usual case for Chinese: every character is a token
        return list(text), list(zip(range(len(text)), range(1, len(text) + 1)))
    tokens, offsets = [], []
    for i, ch in enumerate(text):
        if not ch.isspace():
            tokens.append(ch)
            offsets.append((i, i + 1))
    return tokens, offsets


def word_tokens(text: str):
    tokens, offsets = [], []
    for match in _WORD.finditer(text):
        tokens.append(match.group())
        offsets.append(match.span())
    return tokens, offsets


TOKENIZERS = {"char": char_tokens, "word": word_tokens}

#: Every code point ``str.isspace()`` accepts lies below this one (U+3000 is the last).
SPACE_LIMIT = 0x3001


def has_space(text: str) -> bool:
    """Whether ``text`` has a character ``char_tokens`` drops."""
    return _SPACE.search(text) is not None


@functools.lru_cache(maxsize=None)
def space_table() -> np.ndarray:
    """``table[c]`` is True where code point ``c`` (below :data:`SPACE_LIMIT`) is whitespace:
    the characters ``char_tokens`` drops, for tokenizing code-point arrays."""
    return np.array([chr(c).isspace() for c in range(SPACE_LIMIT)], dtype=bool)
