"""Length-bucketed batching and per-batch padding.

Sentences of similar length are batched together so padding stays small: each epoch the
data is shuffled, cut into pools of ``pool_batches`` batches, each pool is sorted by length
and cut into batches, and the batch order is shuffled again.

>>> import numpy as np
>>> batches = bucketed_batches([5, 1, 4, 2, 3, 6], batch_size=2, rng=None)
>>> [sorted(b.tolist()) for b in batches]
[[1, 3], [2, 4], [0, 5]]
>>> pad_batch([np.array([3, 4]), np.array([5])]).tolist()
[[3, 4], [5, 0]]
"""

from __future__ import annotations

import itertools
from typing import Iterable, Sequence

import numpy as np


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator | None, pool_batches: int = 50):
    """Index arrays of batches grouped by length; ``rng=None`` gives a deterministic order."""
    lengths = np.asarray(lengths)
    order = np.arange(len(lengths)) if rng is None else rng.permutation(len(lengths))
    pool = batch_size * pool_batches
    batches = []
    for begin in range(0, len(order), pool):
        chunk = order[begin : begin + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def stream_batches(items: Iterable, length, batch_size: int, rng: np.random.Generator | None, pool_batches: int = 50):
    """Batches (lists of items) from a stream too large for memory, grouped by ``length(item)``.

    Reads pools of ``batch_size * pool_batches`` items, sorts each pool by length, cuts it into
    batches and yields them in random order (``rng=None``: in length order). Memory holds one pool.
    """
    pool_size = batch_size * pool_batches
    pool = []
    for item in itertools.chain(items, [None]):
        if item is not None:
            pool.append(item)
            if len(pool) < pool_size:
                continue
        pool.sort(key=length)
        batches = [pool[i : i + batch_size] for i in range(0, len(pool), batch_size)]
        for index in (range(len(batches)) if rng is None else rng.permutation(len(batches))):
            yield batches[index]
        pool = []


def sorted_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None):
    """Batches of indices in length order (for prediction); capped at ``max_tokens`` padded tokens."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches, current, longest = [], [], 0
    for index in order:
        longest_if_added = max(longest, int(lengths[index]))
        too_many = max_tokens is not None and current and longest_if_added * (len(current) + 1) > max_tokens
        if len(current) == batch_size or too_many:
            batches.append(np.array(current))
            current, longest_if_added = [], int(lengths[index])
        current.append(index)
        longest = longest_if_added
    if current:
        batches.append(np.array(current))
    return batches


def pad_batch(sequences: Sequence[np.ndarray], value: int = 0) -> np.ndarray:
    """Right-pad int sequences ``[T, ...]`` to the longest one: ``[B, T, ...]`` int32."""
    width = max((len(s) for s in sequences), default=0)
    features = np.shape(sequences[0])[1:] if len(sequences) else ()
    out = np.full((len(sequences), width) + tuple(features), value, dtype=np.int32)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = seq
    return out
