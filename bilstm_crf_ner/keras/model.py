"""BLSTMCRFModel: the user-facing tagger with a small fit / predict / evaluate / save surface.

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
import json
import logging
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .. import __version__
from ..core.batching import bucketed_batches, pad_batch, stream_batches
from .callbacks import EntityF1Callback
from .embeddings import BareEmbedding, Embedding, embedding_from_config
from ..core.errors import ConfigError, InputError, ModelLoadError, ModelSaveError, NotFittedError, TagSchemeError
from ..core.fileio import atomic_folder, read_json
from ..core.inference import Decoded, PredictionMixin, check_pairs, decode_emissions, to_scheme
from .network import TaggerNetwork
from .streams import PairStream
from ..core.tags import (
    MODEL_SCHEMES, allowed_transitions, detect_scheme, entity_types, normalize_scheme,
    scheme_of_prefixes, tag_inventory,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CONFIG_FILE = "bilstm_crf_ner.json"
WEIGHTS_FILE = "network.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
MIXED_PRECISION = (None, "mixed_bfloat16", "mixed_float16")
ENCODER_OPTIMIZER_FILE = "encoder_optimizer.npz"


class BLSTMCRFModel(PredictionMixin):
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
            raise TypeError(f"embedding must be an Embedding such as BareEmbedding(), not {type(embedding).__name__}")
        self.tag_scheme = normalize_scheme(tag_scheme)
        if self.tag_scheme not in MODEL_SCHEMES:
            raise TagSchemeError(f"a model's tag_scheme must be one of {MODEL_SCHEMES}; other schemes are accepted as data")
        if lstm_layers < 0 or lstm_units < 1:
            raise ValueError("lstm_layers must be non-negative and lstm_units positive")
        self.lstm_units, self.lstm_layers = int(lstm_units), int(lstm_layers)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.optimizer, self.learning_rate, self.clipnorm = optimizer, float(learning_rate), clipnorm
        self.constrained, self.head, self.seed = bool(constrained), head, seed
        if mixed_precision not in MIXED_PRECISION:
            raise ConfigError(f"mixed_precision must be one of {MIXED_PRECISION}, not {mixed_precision!r}")
        self.mixed_precision, self.strategy = mixed_precision, strategy
        self.tags: list[str] | None = None
        self.data_scheme: str | None = None
        self.network: TaggerNetwork | None = None
        self._graph_fns = None

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

    def _require_fitted(self):
        if self.network is None:
            raise NotFittedError("this model is not fitted yet: call fit() or BLSTMCRFModel.load() first")

    # ------------------------------------------------------------------ input checking
    def _check_pairs(self, x, y, name: str):
        return check_pairs(x, y, self.embedding.tokenize, name)

    def _check_training_pairs(self, x, y, name: str):
        """As :meth:`_check_pairs`, and the data must be non-empty with no empty sentence (the CRF
        loss is undefined on them)."""
        tokens, tags = self._check_pairs(x, y, name)
        if not tokens:
            raise InputError(f"{name} is empty")
        empty = [i for i, t in enumerate(tokens) if not t]
        if empty:
            raise InputError(f"{name}: sentence {empty[0]} is empty ({len(empty)} empty sentences)")
        return tokens, tags

    # ------------------------------------------------------------------ training
    def _build(self, tokens, types, data_scheme):
        """Build vocabularies (from ``tokens``; ``None`` when already built), tag set and network."""
        self.data_scheme = data_scheme  # predictions come back in the scheme of the first training data
        if tokens is not None:
            self.embedding.build_vocab(tokens)
        self.tags = tag_inventory(types, self.tag_scheme)
        self.network = self._make_network()
        self._compile()

    def _scope(self):
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def _make_network(self, mixed_precision="model"):
        """A new network for the model's tags (``mixed_precision=None`` forces float32, for export)."""
        policy = self.mixed_precision if mixed_precision == "model" else mixed_precision
        constraints = allowed_transitions(self.tags, self.tag_scheme) if self.constrained else None
        with self._scope():
            network = TaggerNetwork(self.embedding.build_layer(), len(self.tags), self.lstm_units, self.lstm_layers,
                                    self.dropout, self.recurrent_dropout, constraints, self.head, name="tagger")
            if policy is not None:
                network.set_compute_policy(policy)
            network(pad_batch([self.embedding.encode(["\x00", "\x00"])]))  # create the variables
        self._graph_fns = None
        return network

    def _make_optimizer(self, learning_rate):
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            options = {"learning_rate": learning_rate}
            if self.clipnorm:
                options["clipnorm"] = self.clipnorm
            return keras.optimizers.get({"class_name": optimizer, "config": options})
        if isinstance(optimizer, dict):
            return keras.optimizers.deserialize(optimizer)
        if learning_rate != self.learning_rate:  # a second optimizer like the user's, at another rate
            config = optimizer.get_config() | {"learning_rate": learning_rate}
            return type(optimizer).from_config(config)
        return optimizer

    def _compile(self):
        with self._scope():
            self._compile_in_scope()

    def _compile_in_scope(self):
        optimizer = self._make_optimizer(self.learning_rate)
        encoder_rate = getattr(self.embedding, "encoder_learning_rate", None)
        if self.mixed_precision == "mixed_float16":  # float16 gradients underflow without loss scaling
            if encoder_rate is not None:
                raise ConfigError("mixed_float16 with a separate encoder_learning_rate is not supported; "
                                  "use mixed_bfloat16 or one learning rate")
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        self.network.compile(optimizer=optimizer)
        encoder_variables = getattr(self.network.embedding, "encoder_variables", [])
        self.network.encoder_optimizer = None
        if encoder_rate is not None and encoder_variables:
            self.network.encoder_optimizer = self._make_optimizer(encoder_rate)
            self.network.encoder_optimizer.build(encoder_variables)
            encoder_paths = {v.path for v in encoder_variables}
            self.network.optimizer.build([v for v in self.network.trainable_variables if v.path not in encoder_paths])

    def input_spec(self):
        """Shape of the network input: ``[batch, time]`` ids, plus a channel axis for id features."""
        channels = self.embedding.encode(["\x00"]).shape[1:]
        return tf.TensorSpec([None, None, *channels], tf.int32, name="token_ids")

    def _encode(self, sentences):
        return self.encode_many(sentences)

    def _dataset(self, ids, tag_ids, batch_size, shuffle, rng):
        lengths = np.array([len(s) for s in ids])

        def batches():
            for index in bucketed_batches(lengths, batch_size, rng if shuffle else None):
                yield pad_batch([ids[i] for i in index]), pad_batch([tag_ids[i] for i in index])

        count = len(bucketed_batches(lengths, batch_size, None))
        if self._multi_worker():
            return self._graph_dataset(ids, tag_ids, bucketed_batches(lengths, batch_size, rng if shuffle else None), shuffle)
        tag_spec = tf.TensorSpec([None, None], tf.int32)
        dataset = tf.data.Dataset.from_generator(batches, output_signature=(self.input_spec(), tag_spec))
        return dataset.apply(tf.data.experimental.assert_cardinality(count)).prefetch(2)

    def _multi_worker(self) -> bool:
        strategy = self.strategy or (tf.distribute.get_strategy() if tf.distribute.has_strategy() else None)
        return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)

    def _graph_dataset(self, ids, tag_ids, batches, shuffle):
        """The bucketed batches as a pure graph dataset (no Python generator), which
        ``MultiWorkerMirroredStrategy`` can shard across workers. Batch composition is fixed;
        the batch order is reshuffled every epoch."""
        sentences = tf.RaggedTensor.from_row_lengths(np.concatenate(ids), [len(s) for s in ids])
        tags = tf.RaggedTensor.from_row_lengths(np.concatenate(tag_ids), [len(t) for t in tag_ids])
        members = tf.ragged.constant([b.tolist() for b in batches], dtype=tf.int64)
        order = tf.data.Dataset.range(len(batches))
        if shuffle:
            order = order.shuffle(len(batches), seed=self.seed, reshuffle_each_iteration=True)
        return order.map(lambda i: (tf.gather(sentences, members[i]).to_tensor(),
                                    tf.gather(tags, members[i]).to_tensor())).prefetch(2)

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
        stream = None
        if y_train is None:
            stream = PairStream(x_train, "training data")
            if self._multi_worker():
                raise InputError("training from a stream is not supported with MultiWorkerMirroredStrategy "
                                 "(TensorFlow cannot shard a Python iterator across workers): pass x_train and y_train")
        else:
            tokens, tags = self._check_training_pairs(x_train, y_train, "training data")
        validate = x_validate is not None or y_validate is not None
        if validate:
            val_tokens, val_tags = self._check_training_pairs(x_validate, y_validate, "validation data")
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        if stream is None:
            source = detect_scheme(tags) if data_scheme == "auto" else normalize_scheme(data_scheme)
            if self.network is None:
                self._build(tokens, entity_types(tags, source), source)
            tokens, tags = self._split_long(tokens, tags)
            internal = to_scheme(tags, source, self.tag_scheme, "training data")
            train = self._dataset(self._encode(tokens), self._tag_ids(internal, "training data"), batch_size, shuffle, rng)
        else:
            source = self._scan_stream(stream, data_scheme)
            train = self._stream_dataset(stream, source, batch_size, rng if shuffle else None)
        callbacks = list(callbacks or [])
        validation = None
        if validate:
            val_source = detect_scheme(val_tags)
            val_pieces, val_piece_tags = self._split_long(val_tokens, val_tags)
            val_internal = to_scheme(val_piece_tags, val_source, self.tag_scheme, "validation data")
            validation = self._dataset(self._encode(val_pieces), self._tag_ids(val_internal, "validation data"), batch_size, False, None)
            callbacks.insert(0, EntityF1Callback(self, val_tokens, val_tags))
        with warnings.catch_warnings():
            # A stream's length is unknown until read; Keras warns when the first epoch ends it.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            return self.network.fit(train, validation_data=validation, epochs=epochs, callbacks=callbacks,
                                    verbose=verbose, shuffle=False)

    def _scan_stream(self, stream, data_scheme):
        """One pass over a stream: builds the model on first use; returns the data's scheme."""
        prefixes, types = set(), set()

        def sentences():
            for i, (tokens, tags) in enumerate(stream):
                for tag in tags:
                    if tag != "O":
                        if len(tag) < 3 or tag[1] != "-" or tag[0] not in "BIESM":
                            raise InputError(f"training data item {i}: malformed tag {tag!r} (expected O or B-TYPE, I-TYPE, ...)")
                        prefixes.add(tag[:2])
                        types.add(tag[2:])
                yield tokens

        building = self.network is None
        if building:
            self.embedding.build_vocab(sentences())  # the vocabulary does not depend on the scheme
        else:
            for _ in sentences():
                pass
        source = scheme_of_prefixes(prefixes) if data_scheme == "auto" else normalize_scheme(data_scheme)
        if building:
            self._build(None, sorted(types), source)
        return source

    def _stream_dataset(self, stream, scheme, batch_size, rng):
        def encoded():
            for i, (tokens, tags) in enumerate(stream):
                name = f"training data item {i}"
                for chunk, chunk_tags in zip(*self._split_long([tokens], [tags])):
                    internal = to_scheme([chunk_tags], scheme, self.tag_scheme, name)
                    yield self.encode_tokens(chunk), self._tag_ids(internal, name)[0]

        def batches():
            for batch in stream_batches(encoded(), lambda item: len(item[0]), batch_size, rng):
                yield pad_batch([ids for ids, _ in batch]), pad_batch([tags for _, tags in batch])

        tag_spec = tf.TensorSpec([None, None], tf.int32)
        return tf.data.Dataset.from_generator(batches, output_signature=(self.input_spec(), tag_spec)).prefetch(2)

    def _split_long(self, tokens, tags):
        """Cut sentences longer than the embedding's window into chunks, preferably between entities.

        A chunk that still starts inside an entity is repaired when converted to the model's
        scheme (its first tag becomes a begin tag)."""
        out_tokens, out_tags = [], []
        for sentence, sentence_tags in zip(tokens, tags):
            windows = self.embedding.windows(sentence)
            if len(windows) > 1:  # plan again, cutting outside entities where possible
                cut_ok = [t == "O" or t[:1] in ("B", "S") for t in sentence_tags] + [True]
                windows = self.embedding.windows(sentence, cut_ok)
            for start, stop in windows:
                out_tokens.append(sentence[start:stop])
                out_tags.append(sentence_tags[start:stop])
        if len(out_tokens) > len(tokens):
            logger.info("split %d long sentences into %d chunks that fit the encoder", len(tokens), len(out_tokens))
        return out_tokens, out_tags

    def _tag_ids(self, tag_sequences, name):
        index = {t: i for i, t in enumerate(self.tags)}
        out = []
        for i, tags in enumerate(tag_sequences):
            try:
                out.append(np.array([index[t] for t in tags], dtype=np.int32))
            except KeyError as exc:
                raise InputError(f"{name}: sentence {i} has tag {exc.args[0]!r}, unknown to this model (tags: {', '.join(self.tags)})") from None
        return out

    # ------------------------------------------------------------------ prediction
    def _graph_functions(self):
        """Compiled ``(emissions, decode)`` functions of the network (built once, no retracing)."""
        if self._graph_fns is None:
            network, constrained = self.network, self.constrained

            @tf.function(input_signature=[self.input_spec()], reduce_retracing=True)
            def decode(token_ids):
                return network.decode(token_ids, constrained=constrained)

            @tf.function(input_signature=[self.input_spec()], reduce_retracing=True)
            def emissions(token_ids):
                return tf.cast(network(token_ids, training=False), tf.float32)

            self._graph_fns = (emissions, decode)
        return self._graph_fns

    def crf_params(self):
        """The CRF scores used for decoding ``(transitions, start, end)`` as numpy, constraints applied."""
        crf = self.network.crf
        if crf is None:
            return None
        return tuple(t.numpy() for t in crf.scores(self.constrained))

    # PredictionMixin hooks (predict, predict_entities, predict_nbest)
    def tokenize(self, text: str):
        return self.embedding.tokenize(text)

    def encode_tokens(self, tokens):
        return self.embedding.encode(tokens)

    def encode_many(self, sentences):
        return self.embedding.encode_many(sentences)

    @property
    def joiner(self) -> str:
        return self.embedding.joiner

    def windows(self, tokens):
        return self.embedding.windows(tokens)

    def _require_ready(self):
        self._require_fitted()

    def _emissions_batch(self, ids):
        return self._graph_functions()[0](tf.constant(ids)).numpy()

    def _crf_scores(self):
        return self.crf_params()

    def _decode_batch(self, ids, lengths, scores, nbest):
        decode_fn = self._graph_functions()[1]
        if not scores and not nbest:  # plain prediction: Viterbi in-graph
            paths = decode_fn(tf.constant(ids)).numpy()
            return [Decoded(path[:n]) for path, n in zip(paths, lengths)]
        return decode_emissions(self._emissions_batch(ids), lengths, self.crf_params(), self.tags, self.tag_scheme,
                                scores, nbest)

    # ------------------------------------------------------------------ persistence
    def save(self, path, overwrite: bool = True, include_optimizer: bool = True) -> Path:
        """Save to the folder ``path`` atomically: config JSON, vocabularies, Keras weights.

        The folder is written next to its destination and swapped in only when complete, so a
        crash leaves the previous model (if any) intact. An existing folder that is not a saved
        model is never replaced.
        """
        self._require_fitted()
        path = Path(path)
        if path.exists():
            if not path.is_dir() or (any(path.iterdir()) and not (path / CONFIG_FILE).is_file()):
                raise ModelSaveError(f"{path} exists and is not a saved model; refusing to replace it")
            if not overwrite:
                raise ModelSaveError(f"{path} already exists (pass overwrite=True to replace it)")
        with atomic_folder(path) as tmp:
            config = {
                "format_version": FORMAT_VERSION, "library_version": __version__,
                "model": self.get_config(), "embedding": self.embedding.serialize(),
                "tags": self.tags, "data_scheme": self.data_scheme,
            }
            (tmp / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
            self.embedding.save_assets(tmp)
            self.network.save_weights(tmp / WEIGHTS_FILE)
            if include_optimizer:
                for name, optimizer in ((OPTIMIZER_FILE, self.network.optimizer),
                                        (ENCODER_OPTIMIZER_FILE, self.network.encoder_optimizer)):
                    if optimizer is not None and optimizer.built:
                        np.savez(tmp / name, *[np.asarray(v) for v in optimizer.variables])
        return path

    def export(self, path, overwrite: bool = False, **options) -> Path:
        """Export to ONNX + OpenVINO IR + metadata for the TensorFlow-free runtime.

        See :func:`bilstm_crf_ner.export.export_model` for the options and folder layout; load the
        result with ``bilstm_crf_ner.runtime.Tagger.load(path)``.
        """
        from ..export import export_model

        return export_model(self, path, overwrite=overwrite, **options)

    @classmethod
    def load(cls, path) -> "BLSTMCRFModel":
        """Load a folder written by :meth:`save`; the model predicts and trains as before."""
        path = Path(path)
        config_path = path / CONFIG_FILE
        config = read_json(config_path, "a saved bilstm_crf_ner model")
        version = config.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelLoadError(f"{path} has format version {version!r}; this library "
                                 f"({__version__}) reads version {FORMAT_VERSION}")
        try:
            model = cls(embedding_from_config(config["embedding"], path), **config["model"])
            model.tags, model.data_scheme = config["tags"], config["data_scheme"]
        except (KeyError, TypeError) as exc:
            raise ModelLoadError(f"{config_path} is incomplete or invalid: {exc}") from None
        if not (path / WEIGHTS_FILE).is_file():
            raise ModelLoadError(f"{path} has no {WEIGHTS_FILE}")
        model.network = model._make_network()
        try:
            model.network.load_weights(path / WEIGHTS_FILE)
        except (ValueError, OSError) as exc:
            raise ModelLoadError(f"{path / WEIGHTS_FILE} does not match the model described by {CONFIG_FILE}: {exc}") from None
        model._compile()
        if (path / OPTIMIZER_FILE).is_file():
            if not model.network.optimizer.built:
                model.network.optimizer.build(model.network.trainable_variables)
            model._restore_optimizer(model.network.optimizer, path / OPTIMIZER_FILE)
        if (path / ENCODER_OPTIMIZER_FILE).is_file() and model.network.encoder_optimizer is not None:
            model._restore_optimizer(model.network.encoder_optimizer, path / ENCODER_OPTIMIZER_FILE)
        return model

    @staticmethod
    def _restore_optimizer(optimizer, file):
        with np.load(file) as saved:
            values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if [tuple(v.shape) for v in optimizer.variables] != [v.shape for v in values]:
            logger.warning("optimizer state in %s does not match the network; training restarts it", file)
            return
        for variable, value in zip(optimizer.variables, values):
            variable.assign(value)

