"""The base of the Keras layers that run a pretrained encoder over aligned pieces and keep one
vector per user token (BERT's and the other families')."""

from __future__ import annotations

import keras
import tensorflow as tf


class PieceFeatures(keras.layers.Layer):
    """Base class: subclasses create ``self.backbone`` (a keras-hub backbone) and call
    :meth:`first_pieces` on its hidden states in ``call``.

    Input ids are ``[B, S, 2]``: channel 0 the pieces (0 = padding), channel 1 in its first
    rows the position of each user token's first piece (:mod:`bilstm_crf_ner.core.pieces`).
    """

    @property
    def encoder_variables(self):
        """The encoder's trainable variables (they may get their own learning rate)."""
        return self.backbone.trainable_variables

    def build(self, input_shape):
        self.built = True

    @staticmethod
    def sequence_lengths(ids):
        """Number of user tokens per row of ids ``[B, S, 2]``."""
        return tf.reduce_sum(tf.cast(tf.not_equal(ids[..., 1], 0), tf.int32), axis=1)

    def first_pieces(self, states, ids):
        """``states`` ``[B, S, D]`` at each token's first piece: ``[B, T, D]``, ``T`` the longest sentence."""
        longest = tf.reduce_max(self.sequence_lengths(ids))
        return tf.gather(states, ids[:, :longest, 1], batch_dims=1)
