"""Lexicon matching compiled with numba: :class:`~bilstm_crf_ner.core.features.lexicon.Lexicon`'s
trie walk and longest-word choice, one token start at a time as machine code.

The numpy walk advances every token start one character per step and then sorts the matches to
pick the longest per token (about 1 µs a character for jieba's dictionary on MSRA, most of a
lexicon model's encoding). Here each start walks the same trie (the root table and the
:class:`~bilstm_crf_ner.core.features.hashtable.IntHashTable` slots, probed by the same compiled lookup) and
updates B / M / E as it goes: longest word first, the earliest start on ties, as the numpy code
chooses (``tests/test_lexicon.py`` holds the two to each other). numba is the optional
``[fast]`` extra; compiled code is cached on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np

from .codes import CODE_POINT_BITS
from .hashtable_numba import lookup, shift_and_mask


@numba.njit(cache=True, nogil=True)
def _walk(codes, starts, limits, stop_at, root, keys, values, shift, mask, word_type, lengths, max_chars,
          max_length, out):  # pragma: no cover - compiled
    taken = np.zeros(out.shape, dtype=np.int64)  # span of the word that set each entry
    for begin in range(starts.shape[0]):
        position, limit, state = starts[begin], limits[begin], 0
        for depth in range(max_chars):
            if position >= limit:
                break
            code = codes[position]
            if depth == 0:
                if code >= root.shape[0]:
                    break
                state = root[code]
                if state <= 0:
                    break
            else:
                state = lookup(keys, values, shift, mask, (state << CODE_POINT_BITS) | code)
                if state < 0:
                    break
            position += 1
            kind = word_type[state]
            if kind <= 0:
                continue
            stop = stop_at[position]
            span = stop - begin
            if stop <= begin or span > max_length or not lengths[span]:
                continue
            if span > taken[begin, 0]:
                out[begin, 0], taken[begin, 0] = kind, span
            for inner in range(begin + 1, stop - 1):
                if span > taken[inner, 1]:
                    out[inner, 1], taken[inner, 1] = kind, span
            if span > taken[stop - 1, 2]:
                out[stop - 1, 2], taken[stop - 1, 2] = kind, span


def walk(codes, starts, limits, stop_at, root, table, word_type, lengths, max_chars, max_length, out):
    """Fill ``out [tokens, 3]`` (ones where no word) with the B / M / E type ids of every token.

    ``codes``: the joined text's code points; ``starts`` / ``limits``: each token's first text
    position and its sentence's end; ``stop_at``: text position -> index + 1 of the token ending
    there (-1 elsewhere); ``root``, ``table`` (an ``IntHashTable``'s slot arrays), ``word_type``
    and ``lengths``: the lexicon's trie arrays."""
    keys, values = table
    _walk(codes, starts, limits, stop_at, root, keys, values, *shift_and_mask(table), word_type, lengths,
          np.int64(max_chars), np.int64(max_length), out)
