"""Tagger: tags text with an exported model, giving the same answers as the Keras model.

Example (after ``model.export("ir/")``):

    from bilstm_crf_ner.runtime import Tagger
    tagger = Tagger.load("ir/")                       # backend and precision measured fastest at export
    tagger.predict([list("中共中央致中国致公党十一大的贺词")])
    tagger.predict_entities(["今天新发布的小米手机太棒了。"])

Tokenization, length-sorted batching, constrained Viterbi (numpy) and entity extraction are
the same code the Keras model uses (:mod:`bilstm_crf_ner.core.inference`). Safe to call from
several threads at once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..core.decoding import constrain
from ..core.encoders import encoder_files, load_encoder
from ..core.errors import ModelLoadError
from ..core.fileio import read_json
from ..core.predictor import EmissionScorer, Predictor, PredictsWithPredictor, SentenceEncoder
from .backends import (
    BACKENDS, INT8_PRECISIONS, BackendError, ONNXRuntimeBackend, OpenVINOBackend, default_engine, default_streams,
    prefer_static_shapes, recorded_speeds,
)
from .layout import (
    EXPORT_FORMAT, EXPORT_FORMAT_VERSION, INT8_BIN_FILE, INT8_XML_FILE, IR_BIN_FILE, IR_XML_FILE, METADATA_FILE, ONNX_FILE,
    ORT_INT8_FILE,
)

logger = logging.getLogger(__name__)


class BackendScorer(EmissionScorer):
    """Emissions from an OpenVINO or ONNX Runtime backend; CRF scores from the export's metadata."""

    def __init__(self, backend, crf_scores: tuple | None):
        self.backend, self._crf_scores = backend, crf_scores

    def emissions(self, ids: np.ndarray) -> np.ndarray:
        return self.backend(np.ascontiguousarray(ids, dtype=np.int32))

    def crf_scores(self):
        return self._crf_scores

    def emissions_many(self, batches, progress=False):
        run_many = getattr(self.backend, "run_many", None)
        overlaps = getattr(self.backend, "throughput", False) or getattr(self.backend, "streams", 1) > 1
        if not overlaps or run_many is None or len(batches) < 2:
            return super().emissions_many(batches, progress)
        # Throughput mode or row streams: all batches in flight.
        bar = tqdm(total=len(batches), unit="batch", disable=not progress, leave=False)
        lock = threading.Lock()

        def done():
            with lock:
                bar.update()

        emissions = run_many([np.ascontiguousarray(b, dtype=np.int32) for b in batches], done)
        bar.close()
        return emissions


def crf_scores_of(metadata: dict) -> tuple | None:
    """The constrained CRF scores ``(transitions, start, end)`` recorded in an export's metadata."""
    crf = metadata.get("crf")
    if crf is None:
        return None
    allowed = metadata.get("allowed")
    masks = None if allowed is None else (allowed["transitions"], allowed["start"], allowed["end"])
    return constrain(crf["transitions"], crf["start"], crf["end"], masks)


class Tagger(PredictsWithPredictor):
    """An exported tagger. Build it with :meth:`Tagger.load`; ``predict``, ``predict_entities``,
    ``predict_nbest`` and ``evaluate`` work as on :class:`~bilstm_crf_ner.BLSTMCRFModel`."""

    def __init__(self, metadata: dict, encoder: SentenceEncoder, backend):
        self.metadata = metadata
        self.tags = metadata["tags"]
        self.tag_scheme = metadata["tag_scheme"]
        self.data_scheme = metadata["data_scheme"]
        self.backend = backend
        self._predictor = Predictor(encoder, BackendScorer(backend, crf_scores_of(metadata)), self.tags,
                                    self.tag_scheme, self.data_scheme)

    @property
    def predictor(self) -> Predictor:
        """The :class:`~bilstm_crf_ner.core.predictor.Predictor` (its ``encoder`` and ``scorer``)."""
        return self._predictor

    def tokenize(self, text: str):
        """Tokens of a raw string with their character offsets, as this model splits text."""
        return self._predictor.encoder.tokenize(text)

    @classmethod
    def load(cls, path, backend: str | None = None, precision: str | None = None, num_threads: int | None = None,
             throughput_mode: bool = False, static_shapes: bool | None = None,
             shape_memory_mb: float | None = None, streams: int | None = None):
        """Load an exported folder.

        Args:
            backend: ``"openvino"`` or ``"onnxruntime"``; default: the one the export measured
                fastest for this model (recorded in the metadata).
            precision: ``"f32"``, ``"bf16"`` (OpenVINO), ``"int8"`` (OpenVINO or ONNX Runtime)
                or ``"int8_bf16"`` (OpenVINO: INT8 with bf16 float parts); the INT8 ones need an
                export made with ``int8_calibration``. Default: the recorded one where the
                backend runs it, else ``"f32"``. The engine chosen is logged.
            num_threads: inference threads (default: all cores).
            throughput_mode: OpenVINO only: compile for throughput and keep all batches of a call
                in flight on an ``AsyncInferQueue``. Helps on many-core machines; on 2 cores the
                default latency mode was faster (measured on the MSRA model).
            static_shapes: OpenVINO only: compile per batch shape (see
                :class:`~bilstm_crf_ner.runtime.backends.OpenVINOBackend`); default: where the
                export timed them clearly faster for this model and precision
                (:func:`~bilstm_crf_ner.runtime.backends.prefer_static_shapes`).
            shape_memory_mb: with static shapes, the memory the compiled shapes may hold; batches
                of shapes beyond it run with dynamic shapes (default
                :attr:`~bilstm_crf_ner.runtime.backends.OpenVINOBackend.SHAPE_MEMORY_MB`).
            streams: OpenVINO only: split each batch's rows across this many CPU streams that
                share the inference threads (:mod:`~bilstm_crf_ner.runtime.row_streams`; 1: one
                request on all threads); default: the count the export measured faster for its
                default engine (``default_streams`` in the metadata) when that backend and
                precision are loaded without ``throughput_mode``, else 1. At most one stream per
                inference thread.
        """
        path = Path(path)
        metadata = read_json(path / METADATA_FILE, "an exported bilstm_crf_ner model")
        if metadata.get("format") != EXPORT_FORMAT or metadata.get("format_version") != EXPORT_FORMAT_VERSION:
            raise ModelLoadError(f"{path} has export format {metadata.get('format')!r} version "
                                 f"{metadata.get('format_version')!r}; this runtime reads version {EXPORT_FORMAT_VERSION}")
        default = default_engine(metadata)
        if backend is not None and backend not in BACKENDS:
            raise BackendError(f"backend must be one of {BACKENDS}, not {backend!r}")
        if precision is None:
            # A named backend without a precision gets the default precision where it runs it, else f32.
            precision = default[1] if backend in (None, default[0]) or backend == "openvino" else "f32"
            if backend == "onnxruntime" and metadata.get("onnxruntime_int8") and default[1] in INT8_PRECISIONS:
                precision = "int8"  # the INT8 engine ONNX Runtime has
        backend = backend or default[0]
        tokenizer = metadata["tokenizer"]
        files = encoder_files(path, tokenizer)
        int8 = precision in INT8_PRECISIONS
        if int8 and not metadata.get("onnxruntime_int8" if backend == "onnxruntime" else "int8"):
            raise BackendError(f"{path} has no INT8 model for {backend}: export with int8_calibration=<sentences> "
                               "(CLI: bilstm-crf-ner export --int8 FILE)")
        if backend == "onnxruntime":
            needed = [ORT_INT8_FILE if int8 else ONNX_FILE]
        else:
            needed = [INT8_XML_FILE, INT8_BIN_FILE] if int8 else [IR_XML_FILE, IR_BIN_FILE]
        missing = [name for name in needed + files if not (path / name).is_file()]
        if missing:
            raise ModelLoadError(f"{path} is incomplete: missing {', '.join(missing)}")
        encoder = load_encoder(path, tokenizer)
        if backend == "onnxruntime":
            runner = ONNXRuntimeBackend(path / needed[0], precision, num_threads)
        else:
            xml = path / needed[0]
            if static_shapes is None:
                static_shapes = prefer_static_shapes(recorded_speeds(metadata), precision)
            if streams is None:  # measured for the default engine; threads, not shapes, decide it
                streams = default_streams(metadata) if (backend, precision) == default[:2] and not throughput_mode else 1
            runner = OpenVINOBackend(xml, precision, num_threads, throughput_mode, static_shapes, shape_memory_mb,
                                     streams)
        logger.info("loaded %s with %s %s%s%s", path, backend, precision,
                    " (static shapes)" if getattr(runner, "static_shapes", False) else "",
                    f" ({runner.streams} row streams)" if getattr(runner, "streams", 1) > 1 else "")
        return cls(metadata, encoder, runner)

    def __repr__(self):
        return f"Tagger(backend={self.backend.name!r}, precision={self.backend.precision!r}, tags={len(self.tags)})"
