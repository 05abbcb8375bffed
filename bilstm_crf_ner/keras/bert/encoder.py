"""The Keras layer that turns aligned WordPiece ids into one BERT vector per user token.

It wraps keras-hub's ``BertBackbone`` (same variables, same layer names, so keras-hub's
converters and our checkpoint readers port weights into it) and runs its forward pass layer by
layer, to control which layers train and to read the last ``concat_layers`` hidden states.

Input ids ``[B, S, 2]`` come from :class:`~bilstm_crf_ner.core.wordpiece.WordPieceAligner`;
the output is ``[B, T, hidden * concat_layers]`` with ``T`` the longest sentence in user tokens.

>>> layer = BertTokenFeatures(dict(vocabulary_size=20, num_layers=2, num_heads=2, hidden_dim=8,
...                                intermediate_dim=16, max_sequence_length=16), concat_layers=2)
>>> import numpy as np
>>> ids = np.array([[[2, 1], [7, 2], [8, 0], [3, 0]]], dtype="int32")  # [CLS] two tokens [SEP]
>>> tuple(layer(ids).shape), int(layer.sequence_lengths(ids)[0])
((1, 2, 16), 2)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from ..compat import set_transformer_block_numerics
from ..transformers.features import PieceFeatures
from ..transformers.numerics import ACTIVATIONS


@keras.saving.register_keras_serializable(package="bilstm_crf_ner")
class BertTokenFeatures(PieceFeatures):
    """BERT hidden states gathered at each token's first piece.

    Args:
        backbone_config: keras-hub ``BertBackbone`` arguments (see
            :func:`bilstm_crf_ner.keras.bert.checkpoint.backbone_config`).
        hidden_act: the checkpoint's activation (``"gelu"`` exact, ``"gelu_new"`` tanh form).
        layer_norm_eps: the checkpoint's layer-norm epsilon.
        trainable_layers: ``None`` fine-tunes everything, ``0`` freezes the encoder (features
            only; it then runs in inference mode, without dropout), ``n`` fine-tunes the top
            ``n`` transformer layers.
        concat_layers: concatenate the last ``concat_layers`` hidden layers as the features.
        dropout: the encoder's dropout rate when fine-tuned.
    """

    def __init__(self, backbone_config: dict, hidden_act: str = "gelu", layer_norm_eps: float = 1e-12,
                 trainable_layers: int | None = 0, concat_layers: int = 1, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        from keras_hub.models import BertBackbone

        self.backbone_config = dict(backbone_config)
        self.hidden_act, self.layer_norm_eps = hidden_act, float(layer_norm_eps)
        self.trainable_layers, self.concat_layers, self.dropout = trainable_layers, int(concat_layers), float(dropout)
        self.backbone = BertBackbone(**self.backbone_config, dropout=self.dropout, name="bert_backbone")
        num_layers = self.backbone.num_layers
        if not 1 <= self.concat_layers <= num_layers:
            raise ValueError(f"concat_layers must lie in 1..{num_layers}")
        # keras-hub builds BERT with tanh-approximated GELU and epsilon 1e-12; match the checkpoint.
        for block in self.backbone.transformer_layers:
            set_transformer_block_numerics(block, ACTIVATIONS[hidden_act], self.layer_norm_eps)
        self.backbone.embeddings_layer_norm.epsilon = self.layer_norm_eps
        first_tuned = 0 if trainable_layers is None else num_layers - int(trainable_layers)
        self._layer_tuned = [i >= first_tuned for i in range(num_layers)]
        self._embeddings_tuned = trainable_layers is None
        for layer in (self.backbone.token_embedding, self.backbone.position_embedding, self.backbone.segment_embedding,
                      self.backbone.embeddings_layer_norm):
            layer.trainable = self._embeddings_tuned
        self.backbone.pooled_dense.trainable = False  # the [CLS] pooler plays no part in tagging
        for block, tuned in zip(self.backbone.transformer_layers, self._layer_tuned):
            block.trainable = tuned

    @property
    def output_dim(self) -> int:
        return self.backbone.hidden_dim * self.concat_layers

    def call(self, ids, training=False):
        pieces = ids[..., 0]
        bert = self.backbone
        mask = tf.not_equal(pieces, 0)
        x = bert.token_embedding(pieces)
        x = bert.embeddings_add((x, bert.position_embedding(x), bert.segment_embedding(tf.zeros_like(pieces))))
        x = bert.embeddings_dropout(bert.embeddings_layer_norm(x), training=training and self._embeddings_tuned)
        hidden = []
        for block, tuned in zip(bert.transformer_layers, self._layer_tuned):
            x = block(x, padding_mask=mask, training=training and tuned)
            hidden.append(x)
        return self.first_pieces(hidden[-1] if self.concat_layers == 1 else tf.concat(hidden[-self.concat_layers:], axis=-1),
                                 ids)

    def get_config(self):
        config = super().get_config()
        config.update(backbone_config=self.backbone_config, hidden_act=self.hidden_act, layer_norm_eps=self.layer_norm_eps,
                      trainable_layers=self.trainable_layers, concat_layers=self.concat_layers, dropout=self.dropout)
        return config
