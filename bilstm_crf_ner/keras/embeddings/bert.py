"""A pretrained BERT encoder as the embedding of a tagger (BERT-BiLSTM-CRF).

Example (a local Hugging Face or Google checkpoint folder, or a hub handle when online):

    from bilstm_crf_ner import BLSTMCRFModel, BERTEmbedding
    embedding = BERTEmbedding("path/to/bert-base-chinese", sequence_length=200)
    model = BLSTMCRFModel(embedding)
    model.fit(train_x, train_y, epochs=3)
    model.predict_entities(["今天新发布的小米手机太棒了。"])

Chinese (single-character tokens) is tagged per character; other text per word, with each
word's label on its first WordPiece (:mod:`bilstm_crf_ner.core.wordpiece`). Texts longer than
``sequence_length`` pieces are cut into overlapping windows and merged back
(:mod:`bilstm_crf_ner.core.windows`): nothing is truncated.
"""

from __future__ import annotations

import logging

from ..bert.checkpoint import read_checkpoint
from ..bert.hub import resolve_checkpoint
from ...core.wordpiece import WordPieceAligner, WordPieceEncoder
from ...core.errors import ConfigError, ModelLoadError
from .base import register
from .pretrained import MAX_PIECES_PER_TOKEN, PretrainedEmbedding

logger = logging.getLogger(__name__)



@register
class BERTEmbedding(PretrainedEmbedding):
    """Token vectors from a pretrained BERT, frozen or fine-tuned.

    Args:
        checkpoint: a checkpoint folder (Hugging Face: ``config.json``, ``model.safetensors``,
            ``vocab.txt``; Google: ``bert_config.json``, ``bert_model.ckpt.*``, ``vocab.txt``), or
            a hub handle (``"hf://org/name"`` or a bare name such as ``"bert-base-chinese"``).
        sequence_length: the longest piece sequence the encoder sees at once, ``[CLS]`` and
            ``[SEP]`` included (default: the checkpoint's position table). Longer texts are
            split into overlapping windows; batches are padded only to their longest member.
        trainable: ``False`` (default) uses BERT as a frozen feature extractor, ``True``
            fine-tunes all of it, an integer ``n`` fine-tunes only the top ``n`` layers.
        concat_layers: use the concatenation of the last ``concat_layers`` hidden layers as
            features (Kashgari 1.x's ``layer_nums``).
        encoder_learning_rate: when fine-tuning, the encoder's own (usually smaller) learning
            rate; the BiLSTM-CRF head keeps the model's. ``None`` uses one rate for all.
        token_unit: ``"char"``, ``"word"`` or ``"auto"`` (``"char"`` when every training token
            is one character).
        window_overlap: pieces shared by consecutive windows of a long text (default a
            quarter of the window).
        dropout: the encoder's dropout rate when fine-tuned.
        cache_dir: where hub downloads go (default: the Hugging Face cache).
    """

    encoder_class = WordPieceEncoder
    vocabulary_name = "BERT vocabulary"

    def __init__(self, checkpoint=None, sequence_length: int | None = None, trainable: bool | int = False,
                 concat_layers: int = 1, encoder_learning_rate: float | None = None, token_unit: str = "auto",
                 window_overlap: int | None = None, dropout: float = 0.1, cache_dir=None,
                 architecture: dict | None = None, source: str | None = None):
        if token_unit not in ("auto", "char", "word"):
            raise ConfigError(f"token_unit must be 'auto', 'char' or 'word', not {token_unit!r}")
        self._checkpoint = None
        self.aligner: WordPieceAligner | None = None
        self._encoder: WordPieceEncoder | None = None
        if checkpoint is not None:
            folder = resolve_checkpoint(checkpoint, cache_dir=cache_dir)
            self._checkpoint = read_checkpoint(folder)
            architecture = {"backbone": self._checkpoint.config, "hidden_act": self._checkpoint.hidden_act,
                            "layer_norm_eps": self._checkpoint.layer_norm_eps, "lowercase": self._checkpoint.lowercase}
            source = str(checkpoint)
        elif architecture is None:
            raise ConfigError("BERTEmbedding needs a checkpoint folder or hub handle")
        self.architecture, self.source = architecture, source
        backbone = architecture["backbone"]
        positions, num_layers = backbone["max_sequence_length"], backbone["num_layers"]
        self.sequence_length = positions if sequence_length is None else int(sequence_length)
        if self.sequence_length > positions:
            raise ConfigError(f"sequence_length {self.sequence_length} exceeds the checkpoint's {positions} "
                              "positions; longer texts are split into windows automatically")
        if self.sequence_length < 3:
            raise ConfigError("sequence_length must leave room for [CLS], [SEP] and at least one token")
        if isinstance(trainable, bool):
            self.trainable_layers = None if trainable else 0
        elif isinstance(trainable, int) and 0 <= trainable <= num_layers:
            self.trainable_layers = trainable
        else:
            raise ConfigError(f"trainable must be True, False or a layer count in 0..{num_layers}, not {trainable!r}")
        self.trainable = trainable
        if not 1 <= int(concat_layers) <= num_layers:
            raise ConfigError(f"concat_layers must lie in 1..{num_layers} for this checkpoint")
        self.concat_layers = int(concat_layers)
        self.encoder_learning_rate = None if encoder_learning_rate is None else float(encoder_learning_rate)
        self._token_unit = token_unit
        window = self.sequence_length - 2
        self.window_overlap = window // 4 if window_overlap is None else int(window_overlap)
        if not 0 <= self.window_overlap < window:
            raise ConfigError(f"window_overlap must lie in 0..{window - 1}")
        self.dropout = float(dropout)
        if self._checkpoint is not None:
            self._set_vocab(self._checkpoint.vocab)

    # ------------------------------------------------------------------ tokens and ids
    def _set_vocab(self, vocab):
        size = self.architecture["backbone"]["vocabulary_size"]
        if len(vocab) > size:
            raise ModelLoadError(f"the BERT vocabulary has {len(vocab)} tokens but the encoder's embedding matrix has {size} rows")
        self.aligner = WordPieceAligner(vocab, self.architecture["lowercase"], min(MAX_PIECES_PER_TOKEN, self.sequence_length - 2))
        self._encoder = None

    def set_encoder(self, encoder: WordPieceEncoder) -> None:
        self._set_vocab(encoder.aligner.vocab)  # checks the vocabulary against the encoder's weights
        self.aligner, self._encoder = encoder.aligner, encoder

    # ------------------------------------------------------------------ the Keras layer
    def build_layer(self):
        from ..bert.checkpoint import port_weights
        from ..bert.encoder import BertTokenFeatures

        layer = BertTokenFeatures(self.architecture["backbone"], self.architecture["hidden_act"],
                                  self.architecture["layer_norm_eps"], self.trainable_layers, self.concat_layers,
                                  self.dropout, name="bert_features")
        if self._checkpoint is not None:
            logger.info("loading BERT weights from %s", self._checkpoint.folder)
            port_weights(layer.backbone, self._checkpoint)
        return layer

    # ------------------------------------------------------------------ persistence
    def get_config(self):
        return dict(checkpoint=None, sequence_length=self.sequence_length, trainable=self.trainable,
                    concat_layers=self.concat_layers, encoder_learning_rate=self.encoder_learning_rate,
                    token_unit=self._token_unit, window_overlap=self.window_overlap, dropout=self.dropout,
                    architecture=self.architecture, source=self.source)
