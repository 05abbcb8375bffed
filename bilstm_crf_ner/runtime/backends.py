"""Inference backends for exported models: OpenVINO and ONNX Runtime (no TensorFlow).

Each backend maps padded ids ``[B, T]`` (int32) to emissions ``[B, T, K]`` (float32) and may be
called from several threads at once.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from ..core.errors import BilstmCrfNerError
from .row_streams import RowStreams
from .shape_cache import StaticShapeCache

BACKENDS = ("openvino", "onnxruntime")
#: ``int8_bf16``: the INT8 model with its float parts (the BiLSTM, element-wise ops) in bf16.
PRECISIONS = ("f32", "bf16", "int8", "int8_bf16")
#: Precisions of the INT8 files (OpenVINO: model_int8.xml; ONNX Runtime: model_int8.onnx).
INT8_PRECISIONS = ("int8", "int8_bf16")


class BackendError(BilstmCrfNerError, RuntimeError):
    """A backend or precision is unavailable on this machine, or the model files are unusable."""


def cpu_precisions() -> set[str]:
    """Precisions OpenVINO's CPU plugin supports on this machine (subset of ``PRECISIONS``)."""
    import openvino as ov

    capabilities = set(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    supported = {"f32"} | {p for p, cap in (("bf16", "BF16"), ("int8", "INT8")) if cap in capabilities}
    return supported | ({"int8_bf16"} if {"bf16", "int8"} <= supported else set())


def available_engines(metadata: dict) -> list[tuple[str, str]]:
    """``(backend, precision)`` pairs that this machine's installed packages and CPU can run for
    an export with ``metadata``."""
    engines = []
    if importlib.util.find_spec("onnxruntime"):
        engines = [("onnxruntime", "f32")] + ([("onnxruntime", "int8")] if metadata.get("onnxruntime_int8") else [])
    try:
        supported = cpu_precisions()
    except ImportError:
        return engines
    for precision in PRECISIONS:
        if precision in supported and (precision not in INT8_PRECISIONS or metadata.get("int8")):
            engines.append(("openvino", precision))
    return engines


#: bf16 / INT8 engines become the default (``export(default_precision="fastest")``) or are
#: recommended by ``export`` and ``benchmark`` only when at least this fraction of tokens keeps its f32 tag.
MIN_DEFAULT_AGREEMENT = 0.995

#: OpenVINO static shapes are used by default only where the export timed them at least this much
#: faster than dynamic shapes: each new batch shape costs a compilation and memory (on mixed-length
#: MSRA text a first bulk call took about 2x as long and 200 MiB more; benchmarks/static_shapes.py).
STATIC_SHAPES_MARGIN = 0.1


def prefer_static_shapes(speeds: dict, precision: str) -> bool:
    """Whether an export's timings (:func:`recorded_speeds`) favour OpenVINO static shapes for
    ``precision``: timed, and faster than dynamic shapes by ``STATIC_SHAPES_MARGIN`` where those were timed."""
    dynamic, static = speeds.get(f"openvino_{precision}_ms"), speeds.get(f"openvino_{precision}_static_ms")
    return static is not None and (dynamic is None or static <= (1 - STATIC_SHAPES_MARGIN) * dynamic)


def recorded_speeds(metadata: dict) -> dict:
    """The engine timings an export chose its default by: on its mixed-length workload where
    recorded (``speed_workload``), else on one 16 x 128 batch (exports before the workload)."""
    return metadata.get("speed_workload") or metadata.get("speed_16x128") or {}


def default_engine(metadata: dict) -> tuple[str, str, bool]:
    """``(backend, precision, static_shapes)`` that :meth:`Tagger.load` uses for an export by default."""
    backend, precision = metadata.get("default_backend", "openvino"), metadata.get("default_precision", "f32")
    static = backend == "openvino" and prefer_static_shapes(recorded_speeds(metadata), precision)
    return backend, precision, static


def default_streams(metadata: dict) -> int:
    """Row streams (:mod:`~bilstm_crf_ner.runtime.row_streams`) for an export's default engine:
    the count the export measured faster (``default_streams``), capped at this machine's cores;
    1 for exports made before streams were timed."""
    return max(1, min(int(metadata.get("default_streams") or 1), os.cpu_count() or 1))


class _PerThreadRequests:
    """A compiled OpenVINO model with one infer request per thread (requests are not thread-safe)."""

    def __init__(self, compiled):
        self.compiled = compiled
        self._requests: dict[int, object] = {}

    def infer(self, ids: np.ndarray, time: int) -> np.ndarray:
        key = threading.get_ident()
        request = self._requests.get(key)
        if request is None:
            request = self._requests[key] = self.compiled.create_infer_request()
        request.infer({0: ids})
        return np.array(request.get_output_tensor(0).data[:, :time], dtype=np.float32, copy=True)


class OpenVINOBackend:
    """OpenVINO CPU inference. ``precision``: ``"f32"``, ``"bf16"`` (OpenVINO's own default on
    CPUs that have it), ``"int8"`` (for an INT8 IR; its float parts run in f32) or
    ``"int8_bf16"`` (an INT8 IR whose float parts run in bf16: faster where bf16 is native).

    ``static_shapes=True`` compiles one model per input shape (batch, length rounded up to
    ``SHAPE_STEP``) on first use, while at most ``MAX_SHAPES`` of them and ``shape_memory_mb``
    (default ``SHAPE_MEMORY_MB``) of their measured memory are held; batches of other shapes run
    with dynamic shapes (:class:`~bilstm_crf_ner.runtime.shape_cache.StaticShapeCache`). Whether that beats dynamic
    shapes depends on the model and the padding it adds (the export measures both and records the
    faster); every new shape first costs a compilation, about as long as loading the model.

    ``streams=N`` (N >= 2; at most one per inference thread) splits every batch of several rows
    across N CPU streams that share the inference threads (:mod:`~bilstm_crf_ner.runtime.row_streams`;
    the models for them are compiled on first use) and keeps the slices of the next batches in
    flight; a call with a single one-row batch runs on the model that uses every thread. The
    emissions of real tokens are the same as without streams. Not with ``throughput``.
    """

    name = "openvino"

    #: With ``static_shapes``, padded lengths are rounded up to a multiple of this.
    SHAPE_STEP = 16
    #: With ``static_shapes``, at most this many shapes are compiled (others run with dynamic shapes).
    MAX_SHAPES = 24
    #: With ``static_shapes``, the default memory budget of the compiled shapes, in MiB (a DeBERTa-v3
    #: 4x256 shape at batch 16 holds about 160 MiB: ``benchmarks/static_shapes.py``).
    SHAPE_MEMORY_MB = 2048

    def __init__(self, xml_path: Path, precision: str = "f32", num_threads: int | None = None,
                 throughput: bool = False, static_shapes: bool = False, shape_memory_mb: float | None = None,
                 streams: int = 1):
        try:
            import openvino as ov
        except ImportError:
            raise BackendError("the openvino backend needs the 'openvino' package: pip install openvino") from None
        if precision not in PRECISIONS:
            raise BackendError(f"precision must be one of {PRECISIONS} for OpenVINO, not {precision!r}")
        core = ov.Core()
        if precision not in cpu_precisions():
            raise BackendError(f"this CPU has no {precision} support in OpenVINO; use precision='f32'")
        if not isinstance(streams, (int, np.integer)) or isinstance(streams, bool) or streams < 1:
            raise BackendError(f"streams must be a positive whole number, not {streams!r}")
        if throughput and streams > 1:
            raise BackendError("throughput mode and row streams are two ways to overlap work: choose one")
        memory_mb = self.SHAPE_MEMORY_MB if shape_memory_mb is None else shape_memory_mb
        if not memory_mb > 0:
            raise BackendError(f"shape_memory_mb must be positive, not {shape_memory_mb!r}")
        config = {"INFERENCE_PRECISION_HINT": "bf16" if precision in ("bf16", "int8_bf16") else "f32",
                  "PERFORMANCE_HINT": "THROUGHPUT" if throughput else "LATENCY"}
        if num_threads:
            config["INFERENCE_NUM_THREADS"] = int(num_threads)
        try:
            self._model = core.read_model(str(xml_path))
            self.compiled = core.compile_model(self._model, "CPU", config)
        except Exception as exc:
            raise BackendError(f"OpenVINO cannot load {xml_path}: {exc}") from exc
        self.precision = precision
        self.throughput = throughput
        self.static_shapes = static_shapes
        self._core, self._config, self._xml_path = core, config, xml_path
        self._dynamic = _PerThreadRequests(self.compiled)
        self._shapes = StaticShapeCache(self.MAX_SHAPES, int(memory_mb * 2**20))
        # The streams share the threads the model would use as a whole (OpenVINO's own count
        # unless num_threads is given): at most one stream per thread.
        threads = int(num_threads or self.compiled.get_property("INFERENCE_NUM_THREADS") or os.cpu_count() or 1)
        self.streams = min(int(streams), threads)
        self._streams_config = {"INFERENCE_PRECISION_HINT": config["INFERENCE_PRECISION_HINT"],
                                "NUM_STREAMS": self.streams, "INFERENCE_NUM_THREADS": threads}
        self._rows = RowStreams(self.streams) if self.streams > 1 else None
        self._streams_dynamic: _PerThreadRequests | None = None
        self._streams_lock = threading.Lock()

    def _compile(self, shape: tuple | None, streams: bool = False) -> _PerThreadRequests:
        model = self._model
        if shape is not None:
            model = model.clone()
            model.reshape({0: list(shape)})
        try:
            return _PerThreadRequests(self._core.compile_model(model, "CPU",
                                                               self._streams_config if streams else self._config))
        except Exception as exc:
            raise BackendError(f"OpenVINO cannot compile {self._xml_path} for shape {shape}: {exc}") from exc

    def _dynamic_model(self, streams: bool) -> _PerThreadRequests:
        if not streams:
            return self._dynamic
        with self._streams_lock:
            if self._streams_dynamic is None:
                self._streams_dynamic = self._compile(None, streams=True)
            return self._streams_dynamic

    @property
    def compiled_shapes(self) -> int:
        """How many static-shape models are compiled (0 with dynamic shapes)."""
        return len(self._shapes)

    @property
    def shape_memory_bytes(self) -> int:
        """The measured memory of the static-shape models (0 with dynamic shapes)."""
        return self._shapes.held_bytes()

    def run_many(self, batches, on_done=None) -> list:
        """Emissions of several batches, overlapped: with ``streams``, the row slices of the next
        batches in flight on the streams (one-row batches too); else (throughput mode) whole
        batches on an ``AsyncInferQueue``.

        ``on_done()`` is called as each batch finishes (streams: on the caller's thread, in
        order; throughput mode: from OpenVINO's threads).
        """
        if self._rows is not None:
            return self._rows.run(lambda ids: self._run(ids, streams=True), batches, self.static_shapes, on_done)
        import openvino as ov

        queue = ov.AsyncInferQueue(self.compiled, 0)
        results = [None] * len(batches)

        def finished(request, index):
            results[index] = np.array(request.get_output_tensor(0).data, dtype=np.float32, copy=True)
            if on_done is not None:
                on_done()

        queue.set_callback(finished)
        for index, ids in enumerate(batches):
            queue.start_async({0: ids}, userdata=index)
        queue.wait_all()
        return results

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        if self._rows is not None and ids.shape[0] > 1:
            return self._rows.run(lambda part: self._run(part, streams=True), [ids], self.static_shapes)[0]
        return self._run(ids, streams=False)

    def _run(self, ids: np.ndarray, streams: bool) -> np.ndarray:
        time = ids.shape[1]
        if not self.static_shapes:
            return self._dynamic_model(streams).infer(ids, time)
        # Padding more is exact (padded batches tag like single sentences); cut it off again.
        padded = -(-max(time, 1) // self.SHAPE_STEP) * self.SHAPE_STEP
        wide = np.pad(ids, [(0, 0), (0, padded - time)] + [(0, 0)] * (ids.ndim - 2)) if padded != time else ids
        key = ("streams", *wide.shape) if streams else wide.shape
        return self._shapes.run(key, lambda: self._compile(wide.shape, streams), lambda model: model.infer(wide, time),
                                lambda: self._dynamic_model(streams).infer(ids, time))

    def close(self) -> None:
        """Stop the row-stream worker threads, if any (they start again when needed)."""
        if self._rows is not None:
            self._rows.close()


class ONNXRuntimeBackend:
    """ONNX Runtime CPU inference: float32, or ``"int8"`` for the dynamically quantized model
    (``model_int8.onnx``: int8 MatMul and ``DynamicQuantizeLSTM`` weights)."""

    name = "onnxruntime"

    def __init__(self, onnx_path: Path, precision: str = "f32", num_threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise BackendError("the onnxruntime backend needs the 'onnxruntime' package: pip install onnxruntime") from None
        if precision not in ("f32", "int8"):
            raise BackendError(f"the onnxruntime backend runs f32 or int8 (a quantized export), not {precision!r}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(num_threads or os.cpu_count() or 1)
        try:
            self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise BackendError(f"ONNX Runtime cannot load {onnx_path}: {exc}") from exc
        self.input_name = self.session.get_inputs()[0].name
        self.precision = precision

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: ids})[0]
