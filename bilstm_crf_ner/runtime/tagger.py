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

import json
import threading
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..core.wordpiece import WordPieceAligner, WordPieceEncoder, read_vocab
from ..core.decoding import constrain
from ..core.errors import ModelLoadError
from ..core.features import Lexicon, TokenEncoder
from ..core.fileio import read_json
from ..core.inference import PredictionMixin, decode_emissions
from ..core.text import TOKENIZERS
from ..core.vocab import Vocabulary
from .backends import BACKENDS, BackendError, ONNXRuntimeBackend, OpenVINOBackend, prefer_static_shapes
from .layout import (
    EXPORT_FORMAT, EXPORT_FORMAT_VERSION, INT8_BIN_FILE, INT8_XML_FILE, IR_BIN_FILE, IR_XML_FILE, METADATA_FILE, ONNX_FILE,
)


def _sentence_encoder(path: Path, tokenizer: dict):
    """The encoder the model trained with, rebuilt from the export's tokenizer metadata."""
    if tokenizer.get("type") == "wordpiece":
        vocab = read_vocab(path / tokenizer["vocab_file"])
        if len(vocab) != tokenizer["vocab_size"]:
            raise ModelLoadError(f"{path / tokenizer['vocab_file']} has {len(vocab)} tokens but the model was "
                                 f"exported with {tokenizer['vocab_size']}")
        aligner = WordPieceAligner(vocab, tokenizer["lowercase"], tokenizer["max_pieces_per_token"])
        return WordPieceEncoder(aligner, tokenizer["token_unit"], tokenizer["sequence_length"], tokenizer["window_overlap"])
    vocabs = []
    for name, size in tokenizer["vocab_files"].items():
        tokens = json.loads((path / name).read_text(encoding="utf-8"))
        if len(tokens) != size:
            raise ModelLoadError(f"{path / name} has {len(tokens)} tokens but the model was exported with {size}")
        vocabs.append(Vocabulary(tokens))
    lexicon = None
    if tokenizer.get("lexicon"):
        spec = tokenizer["lexicon"]
        words = json.loads((path / spec["file"]).read_text(encoding="utf-8"))
        lexicon = Lexicon(words, spec["max_length"], joiner=tokenizer["joiner"])
        if len(lexicon.words) != spec["words"]:
            raise ModelLoadError(f"{path / spec['file']} has {len(lexicon.words)} words but the model was exported "
                                 f"with {spec['words']}")
    return TokenEncoder(vocabs[0], vocabs[1] if len(vocabs) > 1 else None, lexicon)


class Tagger(PredictionMixin):
    """An exported tagger. Build it with :meth:`Tagger.load`."""

    def __init__(self, metadata: dict, encoder: TokenEncoder | WordPieceEncoder, backend):
        self.metadata = metadata
        self.tags = metadata["tags"]
        self.tag_scheme = metadata["tag_scheme"]
        self.data_scheme = metadata["data_scheme"]
        self.token_unit = metadata["tokenizer"]["token_unit"]
        self.joiner = metadata["tokenizer"]["joiner"]
        self.encoder = encoder
        self.backend = backend
        crf = metadata.get("crf")
        if crf is None:
            self._scores = None
        else:
            allowed = metadata.get("allowed")
            masks = None if allowed is None else (allowed["transitions"], allowed["start"], allowed["end"])
            self._scores = constrain(crf["transitions"], crf["start"], crf["end"], masks)

    @classmethod
    def load(cls, path, backend: str | None = None, precision: str | None = None, num_threads: int | None = None,
             throughput_mode: bool = False, static_shapes: bool | None = None):
        """Load an exported folder.

        Args:
            backend: ``"openvino"`` or ``"onnxruntime"``; default: the one the export measured
                fastest for this model (recorded in the metadata).
            precision: ``"f32"``, ``"bf16"`` or ``"int8"`` (OpenVINO only; int8 needs an export
                made with ``int8_calibration``); default: the recorded one (f32).
            num_threads: inference threads (default: all cores).
            throughput_mode: OpenVINO only: compile for throughput and keep all batches of a call
                in flight on an ``AsyncInferQueue``. Helps on many-core machines; on 2 cores the
                default latency mode was faster (measured on the MSRA model).
            static_shapes: OpenVINO only: compile per batch shape (see
                :class:`~bilstm_crf_ner.runtime.backends.OpenVINOBackend`); default: where the
                export timed them clearly faster for this model and precision
                (:func:`~bilstm_crf_ner.runtime.backends.prefer_static_shapes`).
        """
        path = Path(path)
        metadata = read_json(path / METADATA_FILE, "an exported bilstm_crf_ner model")
        if metadata.get("format") != EXPORT_FORMAT or metadata.get("format_version") != EXPORT_FORMAT_VERSION:
            raise ModelLoadError(f"{path} has export format {metadata.get('format')!r} version "
                                 f"{metadata.get('format_version')!r}; this runtime reads version {EXPORT_FORMAT_VERSION}")
        backend = backend or metadata.get("default_backend", "openvino")
        precision = precision or metadata.get("default_precision", "f32")
        if backend not in BACKENDS:
            raise BackendError(f"backend must be one of {BACKENDS}, not {backend!r}")
        tokenizer = metadata["tokenizer"]
        files = [tokenizer["vocab_file"]] if tokenizer.get("type") == "wordpiece" else list(tokenizer["vocab_files"])
        files += [tokenizer["lexicon"]["file"]] if tokenizer.get("lexicon") else []
        if precision == "int8" and not metadata.get("int8"):
            raise BackendError(f"{path} has no INT8 model: export with int8_calibration=<sentences> "
                               "(CLI: bilstm-crf-ner export --int8 FILE)")
        if precision == "int8":
            needed = [INT8_XML_FILE, INT8_BIN_FILE]
        else:
            needed = [ONNX_FILE] if backend == "onnxruntime" else [IR_XML_FILE, IR_BIN_FILE]
        missing = [name for name in needed + files if not (path / name).is_file()]
        if missing:
            raise ModelLoadError(f"{path} is incomplete: missing {', '.join(missing)}")
        encoder = _sentence_encoder(path, tokenizer)
        if backend == "onnxruntime":
            runner = ONNXRuntimeBackend(path / ONNX_FILE, precision, num_threads)
        else:
            xml = path / (INT8_XML_FILE if precision == "int8" else IR_XML_FILE)
            if static_shapes is None:
                static_shapes = prefer_static_shapes(metadata.get("speed_16x128") or {}, precision)
            runner = OpenVINOBackend(xml, precision, num_threads, throughput_mode, static_shapes)
        return cls(metadata, encoder, runner)

    # PredictionMixin hooks (predict, predict_entities, predict_nbest)
    def tokenize(self, text: str):
        return TOKENIZERS[self.token_unit](text)

    def encode_tokens(self, tokens):
        return self.encoder.encode(tokens)

    def encode_many(self, sentences):
        return self.encoder.encode_many(sentences)

    def windows(self, tokens):
        windows = getattr(self.encoder, "windows", None)  # encoders with a length limit (BERT)
        return windows(tokens) if windows is not None else [(0, len(tokens))]

    def _require_ready(self):
        pass

    def emissions(self, ids: np.ndarray) -> np.ndarray:
        """Raw emission scores ``[B, T, K]`` of padded ids ``[B, T(, C)]`` from the backend."""
        return self.backend(np.ascontiguousarray(ids, dtype=np.int32))

    _emissions_batch = emissions

    def _crf_scores(self):
        return self._scores

    def _decode_batch(self, ids, lengths, scores, nbest):
        return decode_emissions(self.emissions(ids), lengths, self._scores, self.tags, self.tag_scheme, scores, nbest)

    def _decode_batches(self, batches, lengths, scores, nbest, progress):
        run_many = getattr(self.backend, "run_many", None)
        if not getattr(self.backend, "throughput", False) or run_many is None or len(batches) < 2:
            return super()._decode_batches(batches, lengths, scores, nbest, progress)
        # Throughput mode: all batches in flight on OpenVINO's async queue, then numpy decoding.
        bar = tqdm(total=len(batches), unit="batch", disable=not progress, leave=False)
        lock = threading.Lock()

        def done():
            with lock:
                bar.update()

        emissions = run_many([np.ascontiguousarray(b, dtype=np.int32) for b in batches], done)
        bar.close()
        return [decode_emissions(e, n, self._scores, self.tags, self.tag_scheme, scores, nbest)
                for e, n in zip(emissions, lengths)]

    def __repr__(self):
        return f"Tagger(backend={self.backend.name!r}, precision={self.backend.precision!r}, tags={len(self.tags)})"
