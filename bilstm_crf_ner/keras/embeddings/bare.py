"""A trainable lookup-table embedding, the input of a classic character BiLSTM-CRF.

Optionally each token also gets a vector for its bigram (the token and the next one), which
is what lifts character taggers on Chinese NER well beyond the plain character model.

Example:

>>> from bilstm_crf_ner import BLSTMCRFModel, BareEmbedding
>>> model = BLSTMCRFModel(BareEmbedding(embedding_dim=64, bigram_dim=32))
"""

from __future__ import annotations

import logging
from collections import Counter

import keras
import numpy as np
import tensorflow as tf

from ...core.errors import ConfigError, NotFittedError
from ...core.features import Lexicon, TokenEncoder, bigrams, read_lexicon
from ...core.features.token_encoder import LEXICON_FILE
from ...corpus.vectors import read_word2vec
from ...core.vocab import Vocabulary
from .base import Embedding, register

logger = logging.getLogger(__name__)



class _StartValues(keras.initializers.Initializer):
    """Initializes a variable to a given matrix."""

    def __init__(self, values):
        self.values = values

    def __call__(self, shape, dtype=None):
        if tuple(shape) != self.values.shape:
            raise ValueError(f"start values have shape {self.values.shape}, the variable {tuple(shape)}")
        return keras.ops.convert_to_tensor(self.values, dtype=dtype)


@keras.saving.register_keras_serializable(package="bilstm_crf_ner")
class FeatureEmbedding(keras.layers.Layer):
    """Embeds ids ``[B, T]`` (tokens) or ``[B, T, C]`` (tokens, then bigrams if ``bigram_dim``,
    then lexicon B / M / E type ids if ``lexicon_dim``) into ``[B, T, D]``."""

    def __init__(self, vocab_size, embedding_dim, bigram_vocab_size=0, bigram_dim=0, token_dropout=0.0,
                 initial_vectors=None, lexicon_types=0, lexicon_dim=0, **kwargs):
        super().__init__(**kwargs)

        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self.bigram_vocab_size, self.bigram_dim = int(bigram_vocab_size), int(bigram_dim)
        self.token_dropout = float(token_dropout)
        self.seed_generator = keras.random.SeedGenerator()
        # Pretrained start values [vocab_size, embedding_dim] go in as an initializer (an assign in
        # build would be lost when Keras first builds the network symbolically); not part of the config.
        initializer = "uniform" if initial_vectors is None else _StartValues(initial_vectors)
        self.tokens = keras.layers.Embedding(self.vocab_size, self.embedding_dim, embeddings_initializer=initializer,
                                             name="tokens")
        self.bigrams = keras.layers.Embedding(self.bigram_vocab_size, self.bigram_dim, name="bigrams") if self.bigram_dim else None
        self.lexicon_types, self.lexicon_dim = int(lexicon_types), int(lexicon_dim)
        self.lexicon = [keras.layers.Embedding(self.lexicon_types, self.lexicon_dim, name=f"lexicon_{position}")
                        for position in "bme"] if self.lexicon_dim else []

    def build(self, input_shape):
        self.tokens.build((None, None))
        if self.bigrams is not None:
            self.bigrams.build((None, None))
        for table in self.lexicon:
            table.build((None, None))
        self.built = True

    @staticmethod
    def sequence_lengths(ids):
        """Number of tokens per row of right-padded ids ``[B, T]`` or ``[B, T, C]``."""
        if len(ids.shape) == 3:
            ids = ids[..., 0]
        return tf.reduce_sum(tf.cast(tf.not_equal(ids, 0), tf.int32), axis=1)

    def call(self, ids, training=False):
        if training and self.token_dropout > 0:
            # Replace real ids by the unknown id (1) at random, so <unk> is trained in context
            # and the model cannot lean on memorised rare tokens.
            drop = keras.random.uniform(tf.shape(ids), seed=self.seed_generator) < self.token_dropout
            ids = tf.where(drop & (ids > 0), tf.ones_like(ids), ids)
        if self.bigrams is None and not self.lexicon:
            return self.tokens(ids)
        parts = [self.tokens(ids[..., 0])]
        if self.bigrams is not None:
            parts.append(self.bigrams(ids[..., 1]))
        first = 2 if self.bigrams is not None else 1
        parts += [table(ids[..., first + i]) for i, table in enumerate(self.lexicon)]
        return tf.concat(parts, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, embedding_dim=self.embedding_dim,
                      bigram_vocab_size=self.bigram_vocab_size, bigram_dim=self.bigram_dim,
                      token_dropout=self.token_dropout, lexicon_types=self.lexicon_types, lexicon_dim=self.lexicon_dim)
        return config


@register
class BareEmbedding(Embedding):
    """Randomly initialised, trainable token vectors (and optionally bigram vectors).

    Args:
        embedding_dim: size of each token vector.
        min_count: tokens seen fewer times in the training data map to the unknown id, which
            therefore gets trained too.
        max_vocab_size: keep at most this many tokens (most frequent first), or all.
        token_unit: ``"char"``, ``"word"`` or ``"auto"`` (decided in ``fit``: ``"char"`` when
            every training token is a single character). Raw strings passed to ``predict`` are
            split into non-space characters or whitespace-separated words accordingly.
        bigram_dim: size of the bigram vectors; 0 (default) uses no bigrams.
        bigram_min_count: bigrams seen fewer times map to the unknown bigram id.
        token_dropout: in training, replace this share of token (and bigram) ids by the
            unknown id, a regulariser against memorising rare tokens.
        pretrained_vectors: a word2vec text file (:mod:`bilstm_crf_ner.corpus.vectors`) of
            ``embedding_dim``-sized vectors that start the token table (then fine-tuned).
        pretrained_extend_vocab: also add the file's tokens that the training data lacks to the
            vocabulary (within ``max_vocab_size``), so they keep their vectors at prediction time.
        lexicon: a word list file (one word per line, optionally ``word freq type`` like jieba's
            ``dict.txt``; :func:`bilstm_crf_ner.core.features.read_lexicon`) or a ``{word: type}``
            dict. Each token then also gets vectors for the types of the longest dictionary words
            it begins, continues and ends (:class:`bilstm_crf_ner.core.features.Lexicon`). The words
            are saved with the model and the export.
        lexicon_dim: size of each of the three lexicon vectors (B / M / E).
        lexicon_max_length: longest dictionary word used, in tokens.
    """

    def __init__(self, embedding_dim: int = 128, min_count: int = 1, max_vocab_size: int | None = None,
                 token_unit: str = "auto", bigram_dim: int = 0, bigram_min_count: int = 1, token_dropout: float = 0.0,
                 pretrained_vectors=None, pretrained_extend_vocab: bool = True, lexicon=None, lexicon_dim: int = 16,
                 lexicon_max_length: int = 8):
        for name, value, low in (("embedding_dim", embedding_dim, 1), ("bigram_dim", bigram_dim, 0), ("min_count", min_count, 1),
                                 ("bigram_min_count", bigram_min_count, 1), ("lexicon_dim", lexicon_dim, 1),
                                 ("lexicon_max_length", lexicon_max_length, 2)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, not {value!r}")
        if max_vocab_size is not None and (not isinstance(max_vocab_size, (int, np.integer)) or max_vocab_size < 2):
            raise ConfigError(f"max_vocab_size must be None or an integer >= 2, not {max_vocab_size!r}")
        if token_unit not in ("auto", "char", "word"):
            raise ConfigError(f"token_unit must be 'auto', 'char' or 'word', not {token_unit!r}")
        if not 0.0 <= float(token_dropout) < 1.0:
            raise ConfigError(f"token_dropout must lie in [0, 1), not {token_dropout!r}")
        self.embedding_dim = int(embedding_dim)
        self.min_count = int(min_count)
        self.max_vocab_size = max_vocab_size
        self._token_unit = token_unit
        self.bigram_dim = int(bigram_dim)
        self.bigram_min_count = int(bigram_min_count)
        self.token_dropout = float(token_dropout)
        self.pretrained_vectors = None if pretrained_vectors is None else str(pretrained_vectors)
        self.pretrained_extend_vocab = bool(pretrained_extend_vocab)
        self.lexicon = lexicon if lexicon is None or isinstance(lexicon, dict) else str(lexicon)
        self.lexicon_dim, self.lexicon_max_length = int(lexicon_dim), int(lexicon_max_length)
        self._encoder: TokenEncoder | None = None
        self._initial_vectors = None

    @property
    def token_unit(self):
        return "char" if self._token_unit == "auto" else self._token_unit

    @property
    def vocab(self) -> Vocabulary | None:
        return None if self._encoder is None else self._encoder.vocab

    def build_vocab(self, sentences):
        counts, bigram_counts = Counter(), Counter()
        for tokens in sentences:
            counts.update(tokens)
            if self.bigram_dim:
                bigram_counts.update(bigrams(tokens))
        if self._token_unit == "auto":
            self._token_unit = "char" if all(len(t) == 1 for t in counts) else "word"
        vocab = Vocabulary.from_counts(counts, self.min_count, self.max_vocab_size)
        if self.pretrained_vectors is not None:
            vocab = self._load_pretrained(vocab, counts)
        bigram_vocab = Vocabulary.from_counts(bigram_counts, self.bigram_min_count) if self.bigram_dim else None
        self._encoder = TokenEncoder(vocab, bigram_vocab, self._make_lexicon(), self.token_unit)

    def _make_lexicon(self) -> Lexicon | None:
        if self.lexicon is None:
            return None
        words = self.lexicon if isinstance(self.lexicon, dict) else read_lexicon(self.lexicon)
        lexicon = Lexicon(words, self.lexicon_max_length, joiner=self.joiner)
        if not lexicon.words:
            raise ConfigError(f"lexicon {self.lexicon if isinstance(self.lexicon, str) else '(dict)'} has no words of "
                              f"2 to {self.lexicon_max_length} tokens")
        return lexicon

    def _load_pretrained(self, vocab: Vocabulary, counts: Counter) -> Vocabulary:
        """Read the vector file; returns the (possibly extended) vocabulary and keeps the start matrix."""
        keep = None if self.pretrained_extend_vocab else vocab.__contains__
        tokens, vectors = read_word2vec(self.pretrained_vectors, keep=keep)
        if vectors.shape[1] != self.embedding_dim:
            raise ConfigError(f"{self.pretrained_vectors} holds {vectors.shape[1]}-d vectors but embedding_dim is "
                              f"{self.embedding_dim}")
        if self.pretrained_extend_vocab:
            room = None if self.max_vocab_size is None else max(0, self.max_vocab_size - len(vocab))
            extra = [t for t in tokens if t not in vocab][:room]
            vocab = Vocabulary(vocab.tokens + extra)
        rng = np.random.default_rng(0)
        matrix = rng.uniform(-0.05, 0.05, size=(len(vocab), self.embedding_dim)).astype(np.float32)  # Keras's default
        rows = {t: i for i, t in enumerate(tokens)}
        covered = [(i, rows[t]) for i, t in enumerate(vocab.tokens) if t in rows]
        if covered:
            ids, source = map(list, zip(*covered))
            matrix[ids] = vectors[source]
        seen = sum(counts.values())
        hits = sum(c for t, c in counts.items() if t in rows)
        logger.info("pretrained vectors cover %.1f%% of the training tokens (%d of %d vocabulary entries)",
                    100 * hits / max(seen, 1), len(covered), len(vocab))
        self._initial_vectors = matrix
        return vocab

    @property
    def encoder(self) -> TokenEncoder:
        if self._encoder is None:
            raise NotFittedError("the embedding has no vocabulary yet: call fit first")
        return self._encoder

    def set_encoder(self, encoder: TokenEncoder) -> None:
        self._encoder = encoder

    def build_layer(self):
        encoder = self.encoder
        bigram_size = len(encoder.bigram_vocab) if encoder.bigram_vocab is not None else 0
        initial, self._initial_vectors = self._initial_vectors, None  # used by the first network only
        lexicon_types = len(encoder.lexicon.types) if encoder.lexicon is not None else 0
        return FeatureEmbedding(len(encoder.vocab), self.embedding_dim, bigram_size, self.bigram_dim, self.token_dropout,
                                initial_vectors=initial, lexicon_types=lexicon_types,
                                lexicon_dim=self.lexicon_dim if lexicon_types else 0, name="token_embedding")

    def get_config(self):
        return dict(embedding_dim=self.embedding_dim, min_count=self.min_count, max_vocab_size=self.max_vocab_size,
                    token_unit=self._token_unit, bigram_dim=self.bigram_dim, bigram_min_count=self.bigram_min_count,
                    token_dropout=self.token_dropout, pretrained_vectors=self.pretrained_vectors,
                    pretrained_extend_vocab=self.pretrained_extend_vocab,
                    lexicon=None if self.lexicon is None else LEXICON_FILE, lexicon_dim=self.lexicon_dim,
                    lexicon_max_length=self.lexicon_max_length)

    def sample_tokens(self, rng, length):
        tokens = self.encoder.vocab.tokens[2:] or ["x"]  # skip <pad> and <unk>
        return [tokens[i] for i in rng.integers(0, len(tokens), size=length)]
