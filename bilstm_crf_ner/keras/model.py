"""BLSTMCRFModel: the user-facing tagger with a small fit / predict / evaluate / save surface.

A facade: training data preparation lives in :mod:`.training_data`, optimizers in
:mod:`.optimizers`, the folder format in :mod:`.persistence`, prediction in the shared
:class:`~bilstm_crf_ner.core.predictor.Predictor` (with the network as :mod:`.scoring`).

Example (a few seconds on a toy corpus):

>>> from bilstm_crf_ner import BLSTMCRFModel, BareEmbedding
>>> x = [list("张三在北京"), list("李四去上海")] * 8
>>> y = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]] * 16
>>> model = BLSTMCRFModel(BareEmbedding(embedding_dim=16), lstm_units=16)
>>> history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
>>> tags = model.predict(["王五在上海"])  # one tag per character, in the data's scheme (BIO)
>>> len(tags[0])
5
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ..core.batching import pad_batch
from ..core.errors import ConfigError, InputError, NotFittedError, TagSchemeError
from ..core.predictor import Predictor, PredictsWithPredictor
from ..core.tags import MODEL_SCHEMES, allowed_transitions, detect_scheme, entity_types, normalize_scheme, tag_inventory
from . import training_data as data
from .callbacks import EntityF1Callback
from .embeddings import BareEmbedding, Embedding
from .network import HEADS, TaggerNetwork
from .optimizers import compile_network
from .persistence import CONFIG_FILE, load_model, save_model
from .scoring import KerasScorer
from .streams import PairStream

__all__ = ["BLSTMCRFModel", "CONFIG_FILE"]

MIXED_PRECISION = (None, "mixed_bfloat16", "mixed_float16")


class BLSTMCRFModel(PredictsWithPredictor):
    """A (Bi)LSTM-CRF sequence tagger on top of an embedding.

    Args:
        embedding: an :class:`~bilstm_crf_ner.keras.embeddings.Embedding`; default ``BareEmbedding()``.
        tag_scheme: scheme used inside the model, ``"BIOES"`` (default, richer boundaries) or
            ``"BIO"``. Training data in any scheme is converted to it; predictions come back in
            the scheme of the training data unless ``predict(..., tag_scheme=...)`` asks otherwise.
        lstm_units: units per direction of each BiLSTM layer.
        lstm_layers: number of stacked BiLSTM layers; 0 puts the CRF straight on the embedding
            (e.g. BERT-CRF).
        dropout: dropout rate on the embeddings and on the BiLSTM outputs.
        recurrent_dropout: dropout on the LSTM recurrent state.
        optimizer: a Keras optimizer name or instance (default Adam).
        learning_rate: learning rate when ``optimizer`` is a name.
        clipnorm: gradient norm clipping when ``optimizer`` is a name (``None`` to disable).
        constrained: forbid invalid tag transitions (e.g. ``O -> I-PER``) in training and decoding.
        head: ``"crf"`` or ``"softmax"`` (an independent per-token classifier, for comparison).
        seed: if given, seeds Keras, TensorFlow and numpy (global) and the batch shuffling in ``fit``.
        mixed_precision: ``None`` (float32), ``"mixed_bfloat16"`` (CPUs with bf16, TPUs) or
            ``"mixed_float16"`` (GPUs): the embedding and BiLSTM compute in 16 bits with float32
            weights; the emission layer and the CRF (loss and decoding) stay in float32.
        strategy: a ``tf.distribute`` strategy (``MirroredStrategy`` for several GPUs or CPU
            devices, ``MultiWorkerMirroredStrategy`` for several machines) to build and train
            under. Building inside ``with strategy.scope():`` works too. Not saved with the model.
    """

    def __init__(self, embedding: Embedding | None = None, tag_scheme: str = "BIOES", lstm_units: int = 128,
                 lstm_layers: int = 1, dropout: float = 0.2, recurrent_dropout: float = 0.0,
                 optimizer="adam", learning_rate: float = 2e-3, clipnorm: float | None = 5.0,
                 constrained: bool = True, head: str = "crf", seed: int | None = None,
                 mixed_precision: str | None = None, strategy=None):
        self.embedding = embedding if embedding is not None else BareEmbedding()
        if not isinstance(self.embedding, Embedding):
            raise ConfigError(f"embedding must be an Embedding such as BareEmbedding(), not {type(embedding).__name__}")
        self.tag_scheme = normalize_scheme(tag_scheme)
        if self.tag_scheme not in MODEL_SCHEMES:
            raise TagSchemeError(f"a model's tag_scheme must be one of {MODEL_SCHEMES}; other schemes are accepted as data")
        _check_int("lstm_layers", lstm_layers, 0)
        _check_int("lstm_units", lstm_units, 1)
        self.lstm_units, self.lstm_layers = int(lstm_units), int(lstm_layers)
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(rate) < 1.0:
                raise ConfigError(f"{name} must lie in [0, 1), not {rate!r}")
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        if not float(learning_rate) > 0 or (clipnorm is not None and not float(clipnorm) > 0):
            raise ConfigError("learning_rate and clipnorm (unless None) must be positive")
        self.optimizer, self.learning_rate, self.clipnorm = optimizer, float(learning_rate), clipnorm
        if head not in HEADS:
            raise ConfigError(f"head must be one of {HEADS}, not {head!r}")
        if mixed_precision not in MIXED_PRECISION:
            raise ConfigError(f"mixed_precision must be one of {MIXED_PRECISION}, not {mixed_precision!r}")
        self.constrained, self.head, self.seed = bool(constrained), head, seed
        self.mixed_precision, self.strategy = mixed_precision, strategy
        self.tags: list[str] | None = None
        self.data_scheme: str | None = None
        self.network: TaggerNetwork | None = None
        self._predictor: Predictor | None = None

    # ------------------------------------------------------------------ configuration
    def get_config(self) -> dict:
        optimizer = self.optimizer if isinstance(self.optimizer, str) else keras.optimizers.serialize(self.optimizer)
        return dict(tag_scheme=self.tag_scheme, lstm_units=self.lstm_units, lstm_layers=self.lstm_layers,
                    dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, optimizer=optimizer,
                    learning_rate=self.learning_rate, clipnorm=self.clipnorm, constrained=self.constrained,
                    head=self.head, seed=self.seed, mixed_precision=self.mixed_precision)

    @property
    def is_fitted(self) -> bool:
        return self.network is not None

    def input_spec(self):
        """Shape of the network input: ``[batch, time]`` ids, plus a channel axis for id features."""
        channels = self.embedding.encode(["\x00"]).shape[1:]
        return tf.TensorSpec([None, None, *channels], tf.int32, name="token_ids")

    # ------------------------------------------------------------------ training
    def fit(self, x_train, y_train=None, x_validate=None, y_validate=None, epochs: int = 5, batch_size: int = 64,
            callbacks=None, verbose: int = 1, shuffle: bool = True, data_scheme: str = "auto"):
        """Train on token lists ``x_train`` and tag lists ``y_train``; returns Keras's ``History``.

        Without ``y_train``, ``x_train`` is a stream of ``(tokens, tags)`` pairs for corpora that
        do not fit in memory: a re-iterable, a function returning a new iterator, or a
        ``tf.data.Dataset`` of string tensors (:mod:`bilstm_crf_ner.keras.streams`). It is read once
        to build the vocabularies, then once per epoch, shuffled within pools of sentences.

        The first call builds the vocabularies and the network and fixes the scheme predictions
        are returned in; later calls continue training (new tokens map to the unknown id; new
        entity types raise :class:`InputError`; tags may come in another scheme).
        ``data_scheme`` is the scheme of the training tags (``"auto"`` detects BIO/BIOES/BMES;
        pass ``"IOB1"`` for IOB1 data). With validation data (in memory), ``val_loss`` and the
        entity-level ``val_f1``/``val_precision``/``val_recall`` are logged every epoch.
        """
        if y_train is None:
            stream = PairStream(x_train, "training data")
            if data.is_multi_worker(self):
                raise InputError("training from a stream is not supported with MultiWorkerMirroredStrategy "
                                 "(TensorFlow cannot shard a Python iterator across workers): pass x_train and y_train")
        else:
            tokens, tags = data.checked_pairs(self, x_train, y_train, "training data")
        validate = x_validate is not None or y_validate is not None
        if validate:
            val_tokens, val_tags = data.checked_pairs(self, x_validate, y_validate, "validation data")
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        rng = np.random.default_rng(self.seed) if shuffle else None
        if y_train is None:
            source, types = data.scan_stream(self, stream, data_scheme)
            if types is not None:
                self._build(types, source)
            train = data.stream_dataset(self, stream, source, batch_size, rng)
        else:
            source = detect_scheme(tags) if data_scheme == "auto" else normalize_scheme(data_scheme)
            if self.network is None:
                self.embedding.build_vocab(tokens)
                self._build(entity_types(tags, source), source)
            train = data.pairs_dataset(self, tokens, tags, source, "training data", batch_size, rng)
        callbacks = list(callbacks or [])
        validation = None
        if validate:
            validation = data.pairs_dataset(self, val_tokens, val_tags, detect_scheme(val_tags), "validation data",
                                            batch_size)
            callbacks.insert(0, EntityF1Callback(self, val_tokens, val_tags))
        with warnings.catch_warnings():
            # A stream's length is unknown until read; Keras warns when the first epoch ends it.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            return self.network.fit(train, validation_data=validation, epochs=epochs, callbacks=callbacks,
                                    verbose=verbose, shuffle=False)

    def _build(self, types, data_scheme):
        """The tag set and a compiled network (the embedding's vocabulary exists)."""
        self.data_scheme = data_scheme  # predictions come back in the scheme of the first training data
        self.tags = tag_inventory(types, self.tag_scheme)
        self._set_network(self._compiled(self._make_network()))

    def _scope(self):
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def _make_network(self, mixed_precision="model") -> TaggerNetwork:
        """A new network for the model's tags (``mixed_precision=None`` forces float32)."""
        policy = self.mixed_precision if mixed_precision == "model" else mixed_precision
        constraints = allowed_transitions(self.tags, self.tag_scheme) if self.constrained else None
        with self._scope():
            network = TaggerNetwork(self.embedding.build_layer(), len(self.tags), self.lstm_units, self.lstm_layers,
                                    self.dropout, self.recurrent_dropout, constraints, self.head, name="tagger")
            if policy is not None:
                network.set_compute_policy(policy)
            network(pad_batch([self.embedding.encode(["\x00", "\x00"])]))  # create the variables
        return network

    def _compiled(self, network: TaggerNetwork) -> TaggerNetwork:
        with self._scope():
            compile_network(network, self.optimizer, self.learning_rate, self.clipnorm, self.mixed_precision,
                            getattr(self.embedding, "encoder_learning_rate", None))
        return network

    def float32_network(self) -> TaggerNetwork:
        """The network computing in float32: itself, or a float32 twin with the same weights
        when the model trains in mixed precision (what export converts)."""
        self._require_fitted()
        if self.mixed_precision is None:
            return self.network
        network = self._make_network(mixed_precision=None)
        network.set_weights(self.network.get_weights())
        return network

    def _set_network(self, network):
        self.network, self._predictor = network, None

    # ------------------------------------------------------------------ prediction
    def _require_fitted(self):
        if self.network is None:
            raise NotFittedError("this model is not fitted yet: call fit() or BLSTMCRFModel.load() first")

    @property
    def predictor(self) -> Predictor:
        """The :class:`~bilstm_crf_ner.core.predictor.Predictor` behind ``predict*`` and
        ``evaluate``: the embedding as encoder, the network as emission scorer."""
        self._require_fitted()
        if self._predictor is None:
            scorer = KerasScorer(self.network, self.input_spec(), self.constrained)
            self._predictor = Predictor(self.embedding, scorer, self.tags, self.tag_scheme, self.data_scheme)
        return self._predictor

    def tokenize(self, text: str):
        """Tokens of a raw string with their character offsets, as this model splits text."""
        return self.embedding.tokenize(text)

    # ------------------------------------------------------------------ persistence
    def save(self, path, overwrite: bool = True, include_optimizer: bool = True) -> Path:
        """Save to the folder ``path`` atomically: config JSON, vocabularies, Keras weights
        (:mod:`bilstm_crf_ner.keras.persistence`).

        The folder is written next to its destination and swapped in only when complete, so a
        crash leaves the previous model (if any) intact. An existing folder that is not a saved
        model is never replaced.
        """
        self._require_fitted()
        return save_model(self, path, overwrite, include_optimizer)

    @classmethod
    def load(cls, path) -> "BLSTMCRFModel":
        """Load a folder written by :meth:`save`; the model predicts and trains as before."""
        return load_model(cls, path)

    def export(self, path, overwrite: bool = False, **options) -> Path:
        """Export to ONNX + OpenVINO IR + metadata for the TensorFlow-free runtime.

        See :func:`bilstm_crf_ner.export.export_model` for the options and folder layout; load the
        result with ``bilstm_crf_ner.runtime.Tagger.load(path)``.
        """
        from ..export import export_model

        return export_model(self, path, overwrite=overwrite, **options)


def _check_int(name: str, value, low: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, not {value!r}")
