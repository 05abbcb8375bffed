"""Lexicon matching compiled with numba: :class:`~bilstm_crf_ner.core.features.lexicon.Lexicon`'s
trie walk and longest-word choice as machine code.

The numpy walk advances every token start one character per step and then sorts the matches to
pick the longest per token (about 1 µs a character for jieba's dictionary on MSRA, most of a
lexicon model's encoding). Here the same trie (the root table and the
:class:`~bilstm_crf_ner.core.features.hashtable.IntHashTable` slots, probed the same way) is walked
level by level too, but each level is a few tight loops over the walkers: their table reads are
independent, so the CPU overlaps the cache misses (the trie is tens of MB, and cold right after a
model run). The words found are then applied in the order a walk start by start would find them:
longest word first, the earliest start on ties, as the numpy code chooses
(``tests/test_lexicon.py`` holds the two to each other). numba is the optional ``[fast]`` extra;
compiled code is cached on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np

from .codes import CODE_POINT_BITS
from .hashtable_numba import probe, shift_and_mask, slot_of


@numba.njit(cache=True, nogil=True)
def _grow(array, size):  # pragma: no cover - compiled
    bigger = np.empty(size, dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


@numba.njit(cache=True, nogil=True)
def _walk(codes, starts, limits, stop_at, root, keys, values, shift, mask, word_type, lengths, max_chars,
          max_length, out):  # pragma: no cover - compiled
    # Walkers, one per token start still inside the trie, all advanced one character per level:
    # the table reads of different walkers are independent, so the CPU overlaps their cache misses
    # (the trie is tens of MB; right after a model run none of it is in cache).
    n = starts.shape[0]
    begin = np.empty(n, dtype=np.int64)
    position = np.empty(n, dtype=np.int64)
    state = np.empty(n, dtype=np.int64)
    alive = 0
    for b in range(n):
        p = starts[b]
        if p < limits[b] and codes[p] < root.shape[0] and root[codes[p]] > 0:
            begin[alive], position[alive], state[alive] = b, p + 1, root[codes[p]]
            alive += 1
    kind = np.empty(n, dtype=np.int64)
    key = np.empty(n, dtype=np.int64)
    slot = np.empty(n, dtype=np.int64)
    stored = np.empty(n, dtype=np.int64)
    found = 0  # words found: (begin, stop, type, depth)
    found_begin = np.empty(2 * n + 16, dtype=np.int64)
    found_stop, found_kind, found_depth = np.empty_like(found_begin), np.empty_like(found_begin), np.empty_like(found_begin)
    depth = 0
    while alive > 0:
        for i in range(alive):
            kind[i] = word_type[state[i]]
        for i in range(alive):
            if kind[i] <= 0:
                continue
            stop = stop_at[position[i]]
            span = stop - begin[i]
            if stop <= begin[i] or span > max_length or not lengths[span]:
                continue
            if found == found_begin.shape[0]:
                size = 2 * found
                found_begin, found_stop = _grow(found_begin, size), _grow(found_stop, size)
                found_kind, found_depth = _grow(found_kind, size), _grow(found_depth, size)
            found_begin[found], found_stop[found], found_kind[found], found_depth[found] = begin[i], stop, kind[i], depth
            found += 1
        depth += 1
        if depth >= max_chars:
            break
        for i in range(alive):  # every walker's first probe for its next character
            if position[i] < limits[begin[i]]:
                key[i] = (state[i] << CODE_POINT_BITS) | codes[position[i]]
                slot[i] = slot_of(key[i], shift)
                stored[i] = keys[slot[i]]
            else:
                key[i] = -1  # at its sentence's end
        moving = 0
        for i in range(alive):  # resolve the probes; keep the walkers whose edge exists
            here = probe(keys, mask, key[i], slot[i], stored[i]) if key[i] >= 0 else -1
            if here < 0:
                continue
            begin[moving], position[moving], slot[moving] = begin[i], position[i] + 1, here
            moving += 1
        for i in range(moving):
            state[i] = values[slot[i]]
        alive = moving
    # B / M / E from the words in the order a walk start by start finds them (start, then length):
    # the longest word wins, the earliest start on ties.
    taken = np.zeros(out.shape, dtype=np.int64)  # span of the word that set each entry
    order = np.argsort(found_begin[:found] * (max_chars + 1) + found_depth[:found], kind="mergesort")
    for index in order:
        b, stop, word = found_begin[index], found_stop[index], found_kind[index]
        span = stop - b
        if span > taken[b, 0]:
            out[b, 0], taken[b, 0] = word, span
        for inner in range(b + 1, stop - 1):
            if span > taken[inner, 1]:
                out[inner, 1], taken[inner, 1] = word, span
        if span > taken[stop - 1, 2]:
            out[stop - 1, 2], taken[stop - 1, 2] = word, span


def walk(codes, starts, limits, stop_at, root, table, word_type, lengths, max_chars, max_length, out):
    """Fill ``out [tokens, 3]`` (ones where no word) with the B / M / E type ids of every token.

    ``codes``: the joined text's code points; ``starts`` / ``limits``: each token's first text
    position and its sentence's end; ``stop_at``: text position -> index + 1 of the token ending
    there (-1 elsewhere); ``root``, ``table`` (an ``IntHashTable``'s slot arrays), ``word_type``
    and ``lengths``: the lexicon's trie arrays."""
    keys, values = table
    _walk(codes, starts, limits, stop_at, root, keys, values, *shift_and_mask(table), word_type, lengths,
          np.int64(max_chars), np.int64(max_length), out)
