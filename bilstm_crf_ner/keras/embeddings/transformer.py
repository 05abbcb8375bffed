"""A pretrained transformer encoder of any supported family as the embedding of a tagger.

Example (a local Hugging Face folder, or a hub handle when online):

    from bilstm_crf_ner import BLSTMCRFModel, TransformerEmbedding
    embedding = TransformerEmbedding("path/to/xlm-roberta-base", sequence_length=256, trainable=True)
    model = BLSTMCRFModel(embedding)
    model.fit(train_x, train_y, epochs=3)
    model.export("ir/", int8_calibration=train_x[:300])

The family (BERT, RoBERTa, XLM-RoBERTa, ALBERT, DistilBERT, ELECTRA, DeBERTa-v3) comes from
``config.json``; text is cut with the checkpoint's own ``tokenizer.json``
(:mod:`bilstm_crf_ner.core.subword`): one label per user token on its first piece, one per
character for Chinese. Texts longer than ``sequence_length`` pieces are cut into overlapping
windows and merged back: nothing is truncated. :class:`~bilstm_crf_ner.BERTEmbedding` remains
the class for Google's original BERT checkpoints and for concatenating several layers.
"""

from __future__ import annotations

import logging

from ...core.errors import ConfigError, ModelLoadError
from ...core.subword import SubwordAligner, SubwordEncoder
from ..bert.hub import resolve_checkpoint
from ..transformers.checkpoint import read_checkpoint
from ..transformers.families import FAMILIES
from .base import register
from .pretrained import MAX_PIECES_PER_TOKEN, PretrainedEmbedding

logger = logging.getLogger(__name__)



@register
class TransformerEmbedding(PretrainedEmbedding):
    """Token vectors from a pretrained transformer encoder, frozen or fine-tuned.

    Args:
        checkpoint: a Hugging Face checkpoint folder (``config.json``, ``model.safetensors``,
            ``tokenizer.json``) or a hub handle (``"hf://org/name"`` or a bare name).
        sequence_length: the longest piece sequence the encoder sees at once, special pieces
            included (default: the checkpoint's position table, at most 512).
        trainable: ``False`` (default) uses the encoder as a frozen feature extractor,
            ``True`` fine-tunes all of it, an integer ``n`` only the top ``n`` layers (not for
            ALBERT, whose layers share their weights).
        encoder_learning_rate: when fine-tuning, the encoder's own (usually smaller) learning
            rate; the BiLSTM-CRF head keeps the model's.
        token_unit: ``"char"``, ``"word"`` or ``"auto"`` (``"char"`` when every training token
            is one character).
        window_overlap: pieces shared by consecutive windows of a long text (default a
            quarter of the window).
        dropout: the encoder's dropout rate when fine-tuned.
        cache_dir: where hub downloads go (default: the Hugging Face cache).
    """

    encoder_class = SubwordEncoder
    vocabulary_name = "tokenizer"

    def __init__(self, checkpoint=None, sequence_length: int | None = None, trainable: bool | int = False,
                 encoder_learning_rate: float | None = None, token_unit: str = "auto", window_overlap: int | None = None,
                 dropout: float = 0.1, cache_dir=None, architecture: dict | None = None, source: str | None = None):
        if token_unit not in ("auto", "char", "word"):
            raise ConfigError(f"token_unit must be 'auto', 'char' or 'word', not {token_unit!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ConfigError(f"dropout must lie in [0, 1), not {dropout!r}")
        if encoder_learning_rate is not None and not (isinstance(encoder_learning_rate, (int, float))
                                                      and encoder_learning_rate >= 0):
            raise ConfigError(f"encoder_learning_rate must be a number >= 0 or None, not {encoder_learning_rate!r}")
        for name, value in (("sequence_length", sequence_length), ("window_overlap", window_overlap)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ConfigError(f"{name} must be a whole number, not {value!r}")
        self._checkpoint = None
        self.aligner: SubwordAligner | None = None
        self._encoder: SubwordEncoder | None = None
        if checkpoint is not None:
            self._checkpoint = read_checkpoint(resolve_checkpoint(checkpoint, cache_dir=cache_dir))
            architecture, source = self._checkpoint.architecture, str(checkpoint)
        elif architecture is None:
            raise ConfigError("TransformerEmbedding needs a checkpoint folder or hub handle")
        self.architecture, self.source = architecture, source
        family = FAMILIES[architecture["model_type"]]
        positions = family.positions(architecture["backbone"])
        num_layers = architecture["backbone"]["num_layers"]
        self.sequence_length = min(positions, 512) if sequence_length is None else int(sequence_length)
        if self.sequence_length > positions:
            raise ConfigError(f"sequence_length {self.sequence_length} exceeds the checkpoint's {positions} "
                              "positions; longer texts are split into windows automatically")
        if isinstance(trainable, bool):
            self.trainable_layers = None if trainable else 0
        elif isinstance(trainable, int) and 0 <= trainable <= num_layers and not family.shared_layers:
            self.trainable_layers = trainable
        else:
            shared = " (ALBERT's layers share weights: True or False only)" if family.shared_layers else ""
            raise ConfigError(f"trainable must be True, False or a layer count in 0..{num_layers}, not {trainable!r}{shared}")
        self.trainable = trainable
        self.encoder_learning_rate = None if encoder_learning_rate is None else float(encoder_learning_rate)
        self._token_unit = token_unit
        self.window_overlap = window_overlap
        self.dropout = float(dropout)
        if self._checkpoint is not None:
            self._set_aligner(SubwordAligner(self._checkpoint.tokenizer_json, self._max_pieces()))

    def _max_pieces(self) -> int:
        return min(MAX_PIECES_PER_TOKEN, self.sequence_length - 2)

    # ------------------------------------------------------------------ tokens and ids
    def _set_aligner(self, aligner: SubwordAligner):
        window = self.sequence_length - aligner.special_pieces
        if window < max(aligner.max_pieces_per_token, 1):
            raise ConfigError(f"sequence_length {self.sequence_length} leaves {window} pieces beside the tokenizer's "
                              f"{aligner.special_pieces} special ones, fewer than one token may take "
                              f"({aligner.max_pieces_per_token})")
        overlap = window // 4 if self.window_overlap is None else int(self.window_overlap)
        if not 0 <= overlap < window:
            raise ConfigError(f"window_overlap must lie in 0..{window - 1}")
        self.window_overlap = overlap
        rows = self.architecture["backbone"].get("vocabulary_size", self.architecture["backbone"].get("vocab_size"))
        if aligner.vocab_size > rows:
            raise ModelLoadError(f"the tokenizer has {aligner.vocab_size} pieces but the encoder's embedding matrix has {rows} rows")
        self.aligner, self._encoder = aligner, None

    def set_encoder(self, encoder: SubwordEncoder) -> None:
        self._set_aligner(encoder.aligner)  # checks the tokenizer against the encoder's weights
        self._encoder = encoder

    # ------------------------------------------------------------------ the Keras layer
    def build_layer(self):
        from ..transformers.checkpoint import port_weights
        from ..transformers.encoder import TransformerTokenFeatures

        arch = self.architecture
        layer = TransformerTokenFeatures(arch["model_type"], arch["backbone"], arch["hidden_act"], arch["layer_norm_eps"],
                                         arch["pad_token_id"], self.trainable_layers, self.dropout,
                                         name="transformer_features")
        if self._checkpoint is not None:
            logger.info("loading %s weights from %s", arch["model_type"], self._checkpoint.folder)
            port_weights(layer.backbone, self._checkpoint)
        return layer

    # ------------------------------------------------------------------ persistence
    def get_config(self):
        return dict(checkpoint=None, sequence_length=self.sequence_length, trainable=self.trainable,
                    encoder_learning_rate=self.encoder_learning_rate, token_unit=self._token_unit,
                    window_overlap=self.window_overlap, dropout=self.dropout, architecture=self.architecture,
                    source=self.source)
