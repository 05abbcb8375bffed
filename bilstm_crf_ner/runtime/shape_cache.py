"""Compiled models per static input shape, within a count and a memory budget.

OpenVINO's static shapes compile one model per batch shape; each compiled model repacks the
weights and allocates its buffers, so a mixed-length workload can hold gigabytes (DeBERTa-v3 4x256:
2.3 GiB against 1.1 GiB with dynamic shapes on 1,000 MSRA sentences, ``benchmarks/static_shapes.py``).
The cache measures what each shape costs as the growth of the process's resident memory across
its compilation and first inference, and admits new shapes only while they fit the budget;
shapes it does not admit run on the caller's fallback (the dynamic-shape model). It never evicts:
on mixed lengths a least-recently-used cache smaller than the set of shapes in use recompiles on
nearly every batch (4.7x slower than dynamic shapes, docs/deployment.md), while shapes that do
not fit cost only the dynamic model's speed.

>>> cache = StaticShapeCache(max_shapes=2, max_bytes=None, resident=lambda: None)
>>> [cache.run((1, n), lambda: f"model 1x{n}", lambda model: model, lambda: "dynamic") for n in (16, 32, 48, 16)]
['model 1x16', 'model 1x32', 'dynamic', 'model 1x16']
>>> cache.shapes()
[(1, 16), (1, 32)]
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable

logger = logging.getLogger(__name__)


def resident_bytes() -> int | None:
    """This process's resident memory in bytes (Linux ``/proc``), or None where it cannot be read."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class StaticShapeCache:
    """Compiled models keyed by input shape, admitted while they fit ``max_shapes`` and ``max_bytes``.

    ``run(shape, compile, infer, fallback)`` returns ``infer(model)`` for the model compiled for
    ``shape``, compiling it first where the shape is new and fits, else ``fallback()``. A new
    shape is admitted while fewer than ``max_shapes`` are kept and the memory held plus the
    largest cost seen so far stays within ``max_bytes``; its cost is the resident-memory growth
    across ``compile()`` and its first ``infer`` (run under the cache's lock, so compilations and
    these measurements do not overlap; other threads' inferences still can, which makes the
    figure an estimate). A shape that turns out not to fit is dropped at once and not compiled
    again, so the memory held stays within the budget except for a first shape larger than it.
    Where resident memory cannot be read only the count bounds the cache. ``infer`` gets the
    compiled model and runs on whatever the caller keeps per model and thread (infer requests).
    """

    def __init__(self, max_shapes: int, max_bytes: int | None,
                 resident: Callable[[], int | None] = resident_bytes):
        if max_shapes < 1:
            raise ValueError(f"max_shapes must be at least 1, not {max_shapes}")
        self.max_shapes = max_shapes
        self.max_bytes = max_bytes
        self._resident = resident
        self._models: dict[tuple, tuple[Any, int]] = {}  # shape -> (model, bytes)
        self._refused: set[tuple] = set()
        self._largest = 0
        self._lock = threading.Lock()

    def run(self, shape: tuple, compile: Callable[[], Any], infer: Callable[[Any], Any], fallback: Callable[[], Any]):
        """``infer(model)`` on the model for ``shape`` (``compile()`` makes it on first use), or
        ``fallback()`` where the shape does not fit."""
        with self._lock:
            entry = self._models.get(shape)
            if entry is None:
                if shape not in self._refused and self._fits():
                    return self._admit(shape, compile, infer)
                self._refused.add(shape)
        return fallback() if entry is None else infer(entry[0])

    def _fits(self) -> bool:
        if len(self._models) >= self.max_shapes:
            return False
        return self.max_bytes is None or not self._models or self._held() + self._largest <= self.max_bytes

    def _admit(self, shape, compile, infer):
        before = self._resident()
        model = compile()
        result = infer(model)
        after = self._resident()
        cost = max(after - before, 0) if before is not None and after is not None else 0
        self._largest = max(self._largest, cost)
        self._models[shape] = (model, cost)
        if self.max_bytes is not None and len(self._models) > 1 and self._held() > self.max_bytes:
            del self._models[shape]  # larger than the estimate: run on the fallback from now on
            self._refused.add(shape)
            logger.debug("the model compiled for shape %s (%.0f MiB) exceeds the budget", shape, cost / 2**20)
        return result

    def held_bytes(self) -> int:
        """The measured memory of the models kept."""
        with self._lock:
            return self._held()

    def _held(self) -> int:
        return sum(cost for _, cost in self._models.values())

    def shapes(self) -> list[tuple]:
        """Shapes with a compiled model, in the order they were admitted."""
        with self._lock:
            return list(self._models)

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)
