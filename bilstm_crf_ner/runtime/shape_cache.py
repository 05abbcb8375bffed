"""Compiled models per static input shape, bounded by count and by the memory they hold.

OpenVINO's static shapes compile one model per batch shape; each compiled model repacks the
weights and allocates its buffers, so a mixed-length workload can hold gigabytes (DeBERTa-v3 4x256:
2.3 GiB against 1.1 GiB with dynamic shapes on 1,000 MSRA sentences, ``benchmarks/static_shapes.py``).
The cache measures what each shape costs as the growth of the process's resident memory across
its compilation and first inference, and drops the least recently used shapes beyond a budget.

>>> cache = StaticShapeCache(max_shapes=2, max_bytes=None, resident=lambda: None)
>>> cache.run((1, 16), lambda: "model-1x16", lambda model: model + " ran")
'model-1x16 ran'
>>> cache.run((1, 32), lambda: "model-1x32", lambda model: model + " ran")
'model-1x32 ran'
>>> cache.run((1, 48), lambda: "model-1x48", lambda model: model + " ran")
'model-1x48 ran'
>>> cache.shapes()
[(1, 32), (1, 48)]
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
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
    """Least-recently-used compiled models keyed by input shape.

    ``run(shape, compile, infer)`` returns ``infer(model)`` for the model compiled for ``shape``,
    compiling it first where it is new. A new shape's cost is the resident-memory growth across
    ``compile()`` and its first ``infer`` (run under the cache's lock, so compilations and these
    measurements do not overlap; other threads' inferences still can, which makes the figure an
    estimate). Beyond ``max_shapes`` models or ``max_bytes`` of measured cost the least recently
    used go; the newest is always kept. Where resident memory cannot be read only the count bounds
    the cache. ``infer`` gets the compiled model and runs on whatever the caller keeps per model
    and thread (OpenVINO infer requests).
    """

    def __init__(self, max_shapes: int, max_bytes: int | None,
                 resident: Callable[[], int | None] = resident_bytes):
        if max_shapes < 1:
            raise ValueError(f"max_shapes must be at least 1, not {max_shapes}")
        self.max_shapes = max_shapes
        self.max_bytes = max_bytes
        self._resident = resident
        self._models: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()  # shape -> (model, bytes)
        self._lock = threading.Lock()

    def run(self, shape: tuple, compile: Callable[[], Any], infer: Callable[[Any], Any]):
        """``infer(model)`` on the model for ``shape`` (``compile()`` makes it on first use)."""
        with self._lock:
            entry = self._models.get(shape)
            if entry is not None:
                self._models.move_to_end(shape)
            else:
                before = self._resident()
                model = compile()
                result = infer(model)
                after = self._resident()
                cost = max(after - before, 0) if before is not None and after is not None else 0
                self._models[shape] = (model, cost)
                self._evict()
                return result
        return infer(entry[0])

    def _evict(self):
        while len(self._models) > 1 and (len(self._models) > self.max_shapes or (
                self.max_bytes is not None and self._held() > self.max_bytes)):
            shape, (_, cost) = self._models.popitem(last=False)
            logger.debug("dropped the model compiled for shape %s (%.0f MiB)", shape, cost / 2**20)

    def held_bytes(self) -> int:
        """The measured memory of the models kept."""
        with self._lock:
            return self._held()

    def _held(self) -> int:
        return sum(cost for _, cost in self._models.values())

    def shapes(self) -> list[tuple]:
        """Shapes with a compiled model, least recently used first."""
        with self._lock:
            return list(self._models)

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)
