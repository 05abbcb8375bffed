"""What the embeddings of pretrained subword encoders share (:class:`~bilstm_crf_ner.BERTEmbedding`,
:class:`~bilstm_crf_ner.TransformerEmbedding`): the checkpoint's fixed vocabulary, the token unit
settled in ``fit``, and the TensorFlow-free windowed encoder built over the aligner."""

from __future__ import annotations

import logging

from ...core.errors import NotFittedError
from .base import Embedding

logger = logging.getLogger(__name__)

#: A single token keeps at most this many pieces (its label sits on the first).
MAX_PIECES_PER_TOKEN = 16
#: Share of training tokens mapped to the unknown piece above which fit warns (wrong language or checkpoint).
UNK_WARNING = 0.05


class PretrainedEmbedding(Embedding):
    """Base class. Subclasses set :attr:`aligner` (a
    :class:`~bilstm_crf_ner.core.pieces.PieceAligner`), ``sequence_length``, ``window_overlap``,
    ``source``, ``_token_unit`` and :attr:`encoder_class`."""

    #: The :class:`~bilstm_crf_ner.core.pieces.PieceEncoder` subclass the runtime loads.
    encoder_class: type
    #: How messages name the vocabulary ("BERT vocabulary", "tokenizer").
    vocabulary_name = "vocabulary"
    aligner = None
    _encoder = None

    @property
    def token_unit(self):
        return "char" if self._token_unit == "auto" else self._token_unit

    def _require_aligner(self):
        if self.aligner is None:
            raise NotFittedError(f"the {self.vocabulary_name} is not loaded")
        return self.aligner

    def build_vocab(self, sentences):
        """The vocabulary is the checkpoint's; one pass decides the token unit and reports unknown tokens."""
        aligner = self._require_aligner()
        total = unknown = 0
        single_characters = True
        for tokens in sentences:
            single_characters = single_characters and all(len(t) == 1 for t in tokens)
            pieces = aligner.pieces(tokens, "char")  # one-character tokens looked up as characters, others as words
            total += len(pieces)
            unknown += sum(p == (aligner.unk,) for p in pieces)
        if self._token_unit == "auto":
            self._token_unit = "char" if single_characters else "word"
        if total and unknown / total > UNK_WARNING:
            logger.warning("%.1f%% of the training tokens are unknown to the %s of %s: is it the right "
                           "checkpoint for this language?", 100 * unknown / total, self.vocabulary_name, self.source)

    @property
    def encoder(self):
        """The TensorFlow-free sentence encoder (the exported runtime loads the same one)."""
        if self._encoder is None or self._encoder.unit != self.token_unit:  # the unit is settled in fit
            self._encoder = self.encoder_class(self._require_aligner(), self.token_unit, self.sequence_length,
                                               self.window_overlap)
        return self._encoder

    def sample_tokens(self, rng, length):
        pool = self._require_aligner().known_tokens(self.token_unit)
        return [pool[i] for i in rng.integers(0, len(pool), size=length)]
