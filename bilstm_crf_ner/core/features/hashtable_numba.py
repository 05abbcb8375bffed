""":class:`~bilstm_crf_ner.core.features.hashtable.IntHashTable` lookups compiled with numba.

The numpy lookup probes every key at once, one round per probe step, with a few temporary
arrays per round; here each key is probed in machine code, the same slots in the same order, so
the values are identical (``tests/test_features.py`` holds the two to each other and to a dict).
The first probes of all keys are made in one loop and resolved in a second, so their cache misses
overlap (the tables are MBs to tens of MBs). :func:`slot_of` and :func:`probe` are the two steps,
shared with the compiled lexicon walk and character encoder. numba is the optional ``[fast]``
extra; compiled code is cached on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np

from .hashtable import IntHashTable

_MULTIPLIER = IntHashTable.MULTIPLIER


@numba.njit(cache=True, nogil=True)
def slot_of(key, shift):  # pragma: no cover - compiled
    """The first slot of ``key`` (Fibonacci hashing)."""
    return np.int64((np.uint64(key) * _MULTIPLIER) >> shift)


@numba.njit(cache=True, nogil=True)
def probe(keys, mask, key, slot, stored):  # pragma: no cover - compiled
    """The slot holding ``key``, or -1 where absent, from its first ``slot`` (whose stored key,
    ``stored``, the caller has read): triangular probing."""
    step = 0
    while stored != key:
        if stored == -1:
            return -1
        step += 1
        slot = (slot + step) & mask
        stored = keys[slot]
    return slot


@numba.njit(cache=True, nogil=True)
def get_into(keys, values, shift, mask, queries, missing, out):  # pragma: no cover - compiled
    """``out[i]``: the value of ``queries[i]``, ``missing`` where absent."""
    slots = np.empty(queries.shape[0], dtype=np.int64)
    stored = np.empty_like(slots)
    for i in range(queries.shape[0]):
        slots[i] = slot_of(queries[i], shift)
        stored[i] = keys[slots[i]]
    for i in range(queries.shape[0]):
        slot = probe(keys, mask, queries[i], slots[i], stored[i])
        out[i] = values[slot] if slot >= 0 else missing


def shift_and_mask(table: tuple[np.ndarray, np.ndarray]) -> tuple[np.uint64, np.int64]:
    """The hash shift and slot mask of a table's slot arrays (their length is a power of two)."""
    bits = len(table[0]).bit_length() - 1
    return np.uint64(64 - bits), np.int64(len(table[0]) - 1)


def get(table: tuple[np.ndarray, np.ndarray], queries: np.ndarray) -> np.ndarray:
    """``IntHashTable.get``: the value of each of ``queries`` (int64) in ``table`` (its slot
    arrays ``(keys, values)``), -1 where absent."""
    keys, values = table
    out = np.empty(len(queries), dtype=np.int64)
    get_into(keys, values, *shift_and_mask(table), np.ascontiguousarray(queries, dtype=np.int64), np.int64(-1), out)
    return out
