"""A bidirectional LSTM that is exact on right-padded batches without using Keras masks.

Keras masks turn the LSTM into a generic loop that does not export to native recurrent ops;
an unmasked backward LSTM would read the padding first. Instead the backward direction runs
a forward LSTM over each sequence reversed *within its own length* (a per-row gather, not
``tf.reverse_sequence``, which converters fold away), and the result is reversed back. Both
directions then see only real tokens before any padding, so a sentence gets the same output
alone or in a padded batch, and the graph exports to plain LSTM ops.

>>> import numpy as np
>>> layer = LengthAwareBiLSTM(units=4)
>>> x = np.random.rand(2, 6, 3).astype("float32")
>>> layer(x, np.array([6, 3])).shape
TensorShape([2, 6, 8])
"""

from __future__ import annotations

import keras
import tensorflow as tf


def reverse_within_lengths(x, lengths):
    """Reverse ``x [B, T, ...]`` along time inside each row's first ``lengths[b]`` steps."""
    time = tf.shape(x)[1]
    positions = tf.range(time)[None, :]
    lengths = tf.cast(lengths, tf.int32)[:, None]
    index = tf.where(positions < lengths, lengths - 1 - positions, positions)
    return tf.gather(x, index, batch_dims=1)


@keras.saving.register_keras_serializable(package="bilstm_crf_ner")
class LengthAwareBiLSTM(keras.layers.Layer):
    """Bidirectional LSTM over right-padded batches; outputs ``[B, T, 2 * units]``."""

    def __init__(self, units, recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.recurrent_dropout = float(recurrent_dropout)
        options = dict(units=self.units, return_sequences=True, recurrent_dropout=self.recurrent_dropout)
        self.forward_lstm = keras.layers.LSTM(name="forward", **options)
        self.backward_lstm = keras.layers.LSTM(name="backward", **options)

    def build(self, input_shape):
        self.forward_lstm.build(input_shape)
        self.backward_lstm.build(input_shape)
        self.built = True

    def call(self, inputs, lengths, training=None):
        forward = self.forward_lstm(inputs, training=training)
        backward = reverse_within_lengths(inputs, lengths)
        backward = reverse_within_lengths(self.backward_lstm(backward, training=training), lengths)
        return tf.concat([forward, backward], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (2 * self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, recurrent_dropout=self.recurrent_dropout)
        return config
