"""A read-only int64 -> int64 hash table with vectorised lookups (numpy; compiled with numba where installed).

>>> table = IntHashTable(np.array([5, 1 << 40]), np.array([7, 8]))
>>> table.get(np.array([1 << 40, 5, 6])).tolist()
[8, 7, -1]
"""

from __future__ import annotations

import functools

import numpy as np

from ..compiled import numba_enabled


class IntHashTable:
    """A read-only map of non-negative int64 keys to int64 values with vectorised lookups
    (open addressing with triangular probing, load <= 1/4): several times faster than a binary
    search over sorted keys when the table is far larger than the CPU caches."""

    #: Fibonacci hashing's multiplier (the compiled lexicon walk probes the same slots).
    MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        keys, values = np.asarray(keys, dtype=np.int64), np.asarray(values, dtype=np.int64)
        self._bits = max(4, int(4 * len(keys)).bit_length())
        self._mask = (1 << self._bits) - 1
        self._keys = np.full(1 << self._bits, -1, dtype=np.int64)
        self._values = np.full(1 << self._bits, -1, dtype=np.int64)
        slots = self._slots(keys)
        pending, step = np.arange(len(keys)), 0
        while len(pending):  # each round: every key whose slot is free claims it (one per slot)
            slot = slots[pending]
            free = self._keys[slot] == -1
            taken, first = np.unique(slot[free], return_index=True)
            winners = pending[free][first]
            self._keys[taken], self._values[taken] = keys[winners], values[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            pending, step = pending[~placed[pending]], step + 1
            slots[pending] = (slots[pending] + step) & self._mask

    @classmethod
    def from_table(cls, keys: np.ndarray, values: np.ndarray) -> "IntHashTable":
        """The table whose :attr:`table` was ``(keys, values)`` (e.g. memory-mapped arrays), without rebuilding it."""
        size = len(keys)
        if size != len(values) or size < 16 or size & (size - 1):
            raise ValueError("hash table arrays must have the same power-of-two length (at least 16)")
        table = cls.__new__(cls)
        table._bits, table._mask = size.bit_length() - 1, size - 1
        table._keys, table._values = keys, values
        return table

    @property
    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """The slot arrays ``(keys, values)`` (-1 in empty slots), for :meth:`from_table`."""
        return self._keys, self._values

    def _slots(self, keys):
        return ((keys.astype(np.uint64) * self.MULTIPLIER) >> np.uint64(64 - self._bits)).astype(np.int64)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where absent (the compiled lookup of
        :mod:`~bilstm_crf_ner.core.features.hashtable_numba` where numba is installed: the same values)."""
        compiled = compiled_get()
        if compiled is not None:
            return compiled(self.table, keys)
        return self.get_numpy(keys)

    def get_numpy(self, keys: np.ndarray) -> np.ndarray:
        """:meth:`get` in numpy: every key probed at once, one round per probe step."""
        keys = np.asarray(keys, dtype=np.int64)
        slots, out = self._slots(keys), np.full(len(keys), -1, dtype=np.int64)
        todo, step = np.arange(len(keys)), 0
        while len(todo):
            slot = slots[todo]
            stored = self._keys[slot]
            hit = stored == keys[todo]
            out[todo[hit]] = self._values[slot[hit]]
            todo, step = todo[~hit & (stored != -1)], step + 1
            slots[todo] = (slots[todo] + step) & self._mask
        return out


@functools.lru_cache(maxsize=None)
def compiled_get():
    """The numba lookup (:func:`~bilstm_crf_ner.core.features.hashtable_numba.get`), or ``None``
    without numba or with ``BILSTM_CRF_NER_NUMBA=0``."""
    if not numba_enabled():
        return None
    from .hashtable_numba import get

    return get
