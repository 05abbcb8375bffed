"""Settings of the NER server: which model, how it runs, how requests are batched and limited.

>>> config = ServeConfig(model="ir/", replicas=2, cpus_per_replica=1)
>>> config.inference_threads
1
>>> ServeConfig.from_dict({"model": "ir/", "max_texts": "8"}).limits.max_texts
8
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

from ..core.errors import BilstmCrfNerError

#: Default dynamic-batching settings (``@serve.batch``), in texts and seconds, chosen with
#: ``benchmarks/serve_load.py --sweep`` (docs/serving.md): with 64 one-text clients a 20 ms wait
#: gathered 2-3x larger batches than 1-5 ms and gave the BERT model 20-45% more throughput; max
#: batch 16 / 64 / 256 made little difference. The wait is added to every request at low load.
DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_BATCH_WAIT_S = 0.02
#: Texts per padded model batch inside one dynamic batch: the Tagger sorts a dynamic batch's texts
#: by length and pads each group of this many, so mixed lengths waste little padding.
DEFAULT_PREDICT_BATCH_SIZE = 16


class ServeConfigError(BilstmCrfNerError, ValueError):
    """A server setting is invalid (negative limit, no model path, unknown option...)."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; more gives HTTP 413.

    ``max_texts``: texts (or token lists) per request; ``max_chars``: characters per text
    (tokens per token list); ``max_body_bytes``: bytes of the request body.
    """

    max_texts: int = 256
    max_chars: int = 20_000
    max_body_bytes: int = 8 * 1024 * 1024

    def __post_init__(self):
        for name in ("max_texts", "max_chars", "max_body_bytes"):
            if int(getattr(self, name)) < 1:
                raise ServeConfigError(f"{name} must be at least 1, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class ServeConfig:
    """Everything a replica needs; plain values, so it travels to Ray workers as it is.

    ``backend``, ``precision``, ``static_shapes``, ``streams`` and ``throughput_mode`` go to
    :meth:`bilstm_crf_ner.runtime.Tagger.load` (``None``: what the export recorded).
    ``cpus_per_replica`` is the CPU share Ray reserves for each replica; the replica runs
    ``num_threads`` inference threads, by default that share rounded down (at least 1), so
    replicas do not oversubscribe the machine. ``access_log=False`` turns off Ray Serve's line
    per request in the replica logs (less work per request).
    """

    model: str
    backend: str | None = None
    precision: str | None = None
    static_shapes: bool | None = None
    throughput_mode: bool = False
    replicas: int = 1
    cpus_per_replica: float = 1.0
    num_threads: int | None = None
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_wait_timeout_s: float = DEFAULT_BATCH_WAIT_S
    predict_batch_size: int = DEFAULT_PREDICT_BATCH_SIZE
    max_ongoing_requests: int = 256
    access_log: bool = True
    limits: Limits = field(default_factory=Limits)
    streams: int | None = None

    def __post_init__(self):
        if not self.model:
            raise ServeConfigError("model: the path of an exported folder is required")
        if int(self.replicas) < 1:
            raise ServeConfigError(f"replicas must be at least 1, got {self.replicas!r}")
        if not float(self.cpus_per_replica) > 0:
            raise ServeConfigError(f"cpus_per_replica must be positive, got {self.cpus_per_replica!r}")
        if int(self.max_batch_size) < 1 or int(self.predict_batch_size) < 1 or int(self.max_ongoing_requests) < 1:
            raise ServeConfigError("max_batch_size, predict_batch_size and max_ongoing_requests must be at least 1")
        if float(self.batch_wait_timeout_s) < 0:
            raise ServeConfigError(f"batch_wait_timeout_s must be >= 0, got {self.batch_wait_timeout_s!r}")
        if self.streams is not None and (isinstance(self.streams, bool) or not float(self.streams).is_integer()
                                         or int(self.streams) < 1):
            raise ServeConfigError(f"streams must be a whole number of at least 1, got {self.streams!r}")
        if self.streams is not None and int(self.streams) > 1 and self.throughput_mode:
            raise ServeConfigError("throughput_mode and streams > 1 are two ways to overlap work: choose one")
        if self.num_threads is not None and int(self.num_threads) < 1:
            raise ServeConfigError(f"num_threads must be at least 1, got {self.num_threads!r}")

    @property
    def inference_threads(self) -> int:
        """Inference threads per replica: ``num_threads``, else the CPU share rounded down (>= 1)."""
        return int(self.num_threads) if self.num_threads else max(1, math.floor(self.cpus_per_replica))

    @classmethod
    def from_dict(cls, values: dict) -> "ServeConfig":
        """A config from plain (possibly string) values, as ``serve run ... key=value`` passes them."""
        values = dict(values)
        limit_names = {f.name for f in dataclasses.fields(Limits)}
        limits = {k: int(values.pop(k)) for k in list(values) if k in limit_names}
        if isinstance(values.get("limits"), dict):
            limits = {**values.pop("limits"), **limits}
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ServeConfigError(f"unknown server option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        casts = {"replicas": int, "cpus_per_replica": float, "num_threads": int, "streams": int, "max_batch_size": int,
                 "batch_wait_timeout_s": float, "predict_batch_size": int, "max_ongoing_requests": int,
                 "static_shapes": _boolean, "throughput_mode": _boolean, "access_log": _boolean, "model": os.fspath}
        out = {}
        for name, value in values.items():
            if value is not None and name in casts:
                try:
                    value = casts[name](value)
                except (TypeError, ValueError):
                    raise ServeConfigError(f"{name}: invalid value {value!r}") from None
            out[name] = value
        return cls(**out, limits=Limits(**limits))


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)
