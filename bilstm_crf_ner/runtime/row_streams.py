"""Row-parallel inference: each batch's rows split across single-threaded CPU streams.

On a few cores, one inference request that uses every core spends a good part of a small
model's time keeping its threads in step: the BiLSTM's steps and the element-wise ops are each
too small to share. ``N`` streams with a share of the threads each (one thread where there are
as many streams as threads), every one taking ``1/N`` of a batch's rows, do the same work with
less of that (docs/benchmarks.md, "Row streams": 1.13x at 16 x 128 and 1.2x on mixed-length
MSRA text for the BERT 4x256 + BiLSTM-CRF export on 2 cores). The rows of a padded batch are
independent (a sentence tags the same alone or padded), so the joined emissions equal the whole
batch's on every real token.

>>> import numpy as np
>>> ids = np.arange(10).reshape(5, 2)
>>> [part.tolist() for part in split_rows(ids, 2)]
[[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9]]]
>>> [part.tolist() for part in split_rows(ids, 2, equal=True)]  # one shape for static-shape models
[[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [8, 9]]]
>>> join_rows([np.ones((3, 4, 1)), np.ones((3, 2, 1))], rows=5)[:, :, 0].tolist()
[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np


def split_rows(ids: np.ndarray, parts: int, equal: bool = False) -> list[np.ndarray]:
    """``ids`` cut into ``min(parts, rows)`` slices of consecutive rows whose sizes differ by at
    most one; with ``equal``, into slices of ``ceil(rows / min(parts, rows))`` rows (as few as
    that takes), the last filled up with copies of its last row, so that every slice has the same
    shape (one static-shape model per length, not two)."""
    rows = ids.shape[0]
    if rows == 0:
        return [ids]
    count = max(1, min(parts, rows))
    if not equal:
        return np.array_split(ids, count)
    size = -(-rows // count)
    slices = [ids[start:start + size] for start in range(0, rows, size)]
    if slices[-1].shape[0] < size:
        last = slices[-1]
        slices[-1] = np.concatenate([last, np.repeat(last[-1:], size - last.shape[0], axis=0)])
    return slices


def join_rows(outputs: Sequence[np.ndarray], rows: int) -> np.ndarray:
    """The slices' emissions ``[b_i, t_i, K]`` as one ``[rows, max t_i, K]`` array: each slice
    padded with zeros along time (a model that cuts its output to a batch's longest sentence
    returns narrower slices; the padding lies beyond every row's length) and the filler rows of
    :func:`split_rows` dropped."""
    width = max(out.shape[1] for out in outputs)
    padded = [out if out.shape[1] == width else
              np.pad(out, [(0, 0), (0, width - out.shape[1])] + [(0, 0)] * (out.ndim - 2)) for out in outputs]
    return np.concatenate(padded)[:rows]


class RowStreams:
    """``streams`` worker threads that run row slices of batches at once, one slice per thread
    (each thread keeps its own inference requests, so slices run on separate streams).

    ``run(infer, batches, equal)`` splits every batch (:func:`split_rows`), keeps the slices of
    up to ``AHEAD`` batches in flight (the streams never wait for the next batch, and an error
    or an interrupt leaves little queued work behind: what has not started is cancelled), and
    joins each batch's emissions (:func:`join_rows`); ``on_done()`` is called on the caller's
    thread as each batch completes, in order. Threads start on first use and stop with
    :meth:`close`.
    """

    #: Batches whose slices are queued at once.
    AHEAD = 2

    def __init__(self, streams: int):
        if streams < 2:
            raise ValueError(f"row streams need at least 2 streams, not {streams}")
        self.streams = streams
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.streams, thread_name_prefix="bilstm-crf-ner-stream")
            return self._pool

    def run(self, infer: Callable[[np.ndarray], np.ndarray], batches: Sequence[np.ndarray], equal: bool = False,
            on_done: Callable[[], None] | None = None) -> list[np.ndarray]:
        pool = self._executor()
        queued: list[list] = []

        def submit(index):
            if index < len(batches):
                queued.append([pool.submit(infer, part) for part in split_rows(batches[index], self.streams, equal)])

        for index in range(self.AHEAD):
            submit(index)
        results = []
        try:
            for index, ids in enumerate(batches):
                submit(index + self.AHEAD)
                results.append(join_rows([future.result() for future in queued[0]], ids.shape[0]))
                queued.pop(0)
                if on_done is not None:
                    on_done()
        except BaseException:
            for future in (f for futures in queued for f in futures):
                future.cancel()
            raise
        return results

    def close(self) -> None:
        """Stop the worker threads (they start again on the next :meth:`run`)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
