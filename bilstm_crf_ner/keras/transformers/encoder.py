"""The Keras layer that turns aligned subword ids into one encoder vector per user token.

It wraps the keras-hub backbone of the checkpoint's family (same variables, so the weight
converters port into it) and gathers the last hidden layer at each token's first piece.

Input ids ``[B, S, 2]`` come from :class:`~bilstm_crf_ner.core.subword.SubwordAligner`: channel
0 holds piece id + 1 (0 = padding, whatever the vocabulary's own padding id), channel 1 the
first-piece positions. The output is ``[B, T, hidden]`` with ``T`` the longest sentence in
user tokens.

>>> layer = TransformerTokenFeatures("roberta", dict(vocabulary_size=20, num_layers=2, num_heads=2, hidden_dim=8,
...                                  intermediate_dim=16, max_sequence_length=16), pad_token_id=1)
>>> import numpy as np
>>> ids = np.array([[[1, 1], [8, 2], [9, 0], [3, 0], [0, 0]]], dtype="int32")  # <s> two tokens </s> padding
>>> tuple(layer(ids).shape), int(layer.sequence_lengths(ids)[0])
((1, 2, 8), 2)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from ..compat import nested_layers, set_transformer_block_numerics, transformer_blocks
from .families import FAMILIES
from .features import PieceFeatures
from .numerics import ACTIVATIONS


@keras.saving.register_keras_serializable(package="bilstm_crf_ner")
class TransformerTokenFeatures(PieceFeatures):
    """Encoder hidden states gathered at each token's first piece.

    Args:
        model_type: the checkpoint's family (a key of
            :data:`~bilstm_crf_ner.keras.transformers.families.FAMILIES`).
        backbone_config: the keras-hub backbone's arguments.
        hidden_act: the checkpoint's activation (``"gelu"`` exact, ``"gelu_new"`` tanh form).
        layer_norm_eps: the checkpoint's layer-norm epsilon.
        pad_token_id: the vocabulary's padding id (fed at padded positions, which are masked).
        trainable_layers: ``None`` fine-tunes everything, ``0`` freezes the encoder (then it
            runs in inference mode, without dropout), ``n`` fine-tunes the top ``n`` layers (the
            frozen ones keep their dropout while training).
        dropout: the encoder's dropout rate when fine-tuned.
    """

    def __init__(self, model_type: str, backbone_config: dict, hidden_act: str = "gelu", layer_norm_eps: float = 1e-12,
                 pad_token_id: int = 0, trainable_layers: int | None = 0, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        import keras_hub

        self.family = FAMILIES[model_type]
        self.model_type, self.backbone_config = model_type, dict(backbone_config)
        self.hidden_act, self.layer_norm_eps, self.pad_token_id = hidden_act, float(layer_norm_eps), int(pad_token_id)
        self.trainable_layers, self.dropout = trainable_layers, float(dropout)
        backbone_class = getattr(keras_hub.models, self.family.backbone)
        self.backbone = backbone_class(**self.backbone_config, dropout=self.dropout, name="transformer_backbone")
        # keras-hub fixes each family's activation and epsilon; match the checkpoint's instead.
        for block in transformer_blocks(self.backbone):
            set_transformer_block_numerics(block, ACTIVATIONS[hidden_act], self.layer_norm_eps)
        for layer in nested_layers(self.backbone):  # embeddings' and DeBERTa's relative-position norms too
            if isinstance(layer, keras.layers.LayerNormalization):
                layer.epsilon = self.layer_norm_eps
        self._tuned = trainable_layers != 0
        self.backbone.trainable = self._tuned  # recursive: set before the per-layer flags
        if trainable_layers is not None and trainable_layers != 0:
            blocks = self.backbone.transformer_layers  # refused for shared layers (ALBERT) by the embedding
            tuned = blocks[len(blocks) - int(trainable_layers):]
            for layer in self.backbone.layers:
                layer.trainable = any(layer is block for block in tuned)
        for layer in self.backbone.layers:
            if layer.name == "pooled_dense":  # the [CLS] pooler plays no part in tagging
                layer.trainable = False

    @property
    def output_dim(self) -> int:
        return self.backbone.hidden_dim

    def call(self, ids, training=False):
        pieces = ids[..., 0]
        mask = tf.not_equal(pieces, 0)
        inputs = {"token_ids": tf.where(mask, pieces - 1, self.pad_token_id), "padding_mask": tf.cast(mask, "int32")}
        if self.family.segments:
            inputs["segment_ids"] = tf.zeros_like(pieces)
        outputs = self.backbone(inputs, training=training and self._tuned)
        return self.first_pieces(outputs["sequence_output"] if isinstance(outputs, dict) else outputs, ids)

    def get_config(self):
        config = super().get_config()
        config.update(model_type=self.model_type, backbone_config=self.backbone_config, hidden_act=self.hidden_act,
                      layer_norm_eps=self.layer_norm_eps, pad_token_id=self.pad_token_id,
                      trainable_layers=self.trainable_layers, dropout=self.dropout)
        return config
