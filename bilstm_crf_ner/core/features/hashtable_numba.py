""":class:`~bilstm_crf_ner.core.features.hashtable.IntHashTable` lookups compiled with numba.

The numpy lookup probes every key at once, one round per probe step, with a few temporary
arrays per round (about 90 ns a key, e.g. 0.18 ms for the bigrams of a 16 x 128 batch); here
each key is probed in a loop of machine code, the same slots in the same order, so the values
are identical (``tests/test_features.py`` holds the two to each other and to a dict). The
compiled lexicon walk probes the trie's edges with :func:`lookup` too. numba is the optional
``[fast]`` extra; compiled code is cached on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np

from .hashtable import IntHashTable

_MULTIPLIER = IntHashTable.MULTIPLIER


@numba.njit(cache=True, nogil=True)
def lookup(keys, values, shift, mask, key):  # pragma: no cover - compiled
    """The value of one key, -1 where absent: Fibonacci hash, triangular probing."""
    slot = np.int64((np.uint64(key) * _MULTIPLIER) >> shift)
    step = 0
    while True:
        stored = keys[slot]
        if stored == key:
            return values[slot]
        if stored == -1:
            return -1
        step += 1
        slot = (slot + step) & mask


@numba.njit(cache=True, nogil=True)
def _get(keys, values, shift, mask, queries, out):  # pragma: no cover - compiled
    for i in range(queries.shape[0]):
        out[i] = lookup(keys, values, shift, mask, queries[i])


def shift_and_mask(table: tuple[np.ndarray, np.ndarray]) -> tuple[np.uint64, np.int64]:
    """The hash shift and slot mask of a table's slot arrays (their length is a power of two)."""
    bits = len(table[0]).bit_length() - 1
    return np.uint64(64 - bits), np.int64(len(table[0]) - 1)


def get(table: tuple[np.ndarray, np.ndarray], queries: np.ndarray) -> np.ndarray:
    """``IntHashTable.get``: the value of each of ``queries`` (int64) in ``table`` (its slot
    arrays ``(keys, values)``), -1 where absent."""
    keys, values = table
    out = np.empty(len(queries), dtype=np.int64)
    _get(keys, values, *shift_and_mask(table), np.ascontiguousarray(queries, dtype=np.int64), out)
    return out
