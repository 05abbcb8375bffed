"""The Keras network: embedding -> BiLSTM stack -> dense emissions -> CRF.

The network maps padded token ids ``[B, T]`` (0 = padding, right-padded), or ``[B, T, C]``
with extra id channels such as bigrams, to emission scores ``[B, T, K]``. Its loss (``compute_loss``) is the CRF negative log-likelihood, so
Keras's own ``fit`` machinery (callbacks, distribution strategies, mixed precision) applies
unchanged. No Keras masks are used: sequence lengths are computed from the ids and passed
explicitly, which keeps padded batches exact and the graph exportable.

A ``head="softmax"`` variant (independent per-token classification) exists as a baseline
for benchmarks.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from .compat import LocalFirstBatchBuildMixin, nested_layers, train_step_two_optimizers
from .layers import CRF, LengthAwareBiLSTM

HEADS = ("crf", "softmax")


class TaggerNetwork(LocalFirstBatchBuildMixin, keras.Model):
    """Emission network plus CRF scores. Build it with :meth:`BLSTMCRFModel.fit`, not directly.

    ``LocalFirstBatchBuildMixin`` (see :mod:`.compat`) lets ``fit`` start under
    ``MultiWorkerMirroredStrategy``.
    """

    def __init__(self, embedding_layer, num_tags, lstm_units=128, lstm_layers=1, dropout=0.2,
                 recurrent_dropout=0.0, constraints=None, head="crf", **kwargs):
        super().__init__(**kwargs)
        #: Optional second optimizer for the embedding's ``encoder_variables`` (e.g. a pretrained
        #: BERT fine-tuned at a smaller learning rate); set by BLSTMCRFModel before training.
        self.encoder_optimizer = None
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}")
        self.head = head
        self.embedding = embedding_layer
        self.input_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.rnns = [LengthAwareBiLSTM(lstm_units, recurrent_dropout, name=f"bilstm_{i}") for i in range(lstm_layers)]
        self.output_dropout = keras.layers.Dropout(dropout, name="rnn_dropout")
        self.emission = keras.layers.Dense(num_tags, dtype="float32", name="emissions")
        constraints = constraints or (None, None, None)
        self.crf = CRF(num_tags, *constraints, name="crf") if head == "crf" else None

    def set_compute_policy(self, policy):
        """Compute the embedding and BiLSTM layers under a Keras mixed-precision ``policy`` (variables
        stay float32); the emission layer and the CRF keep computing in float32."""
        keep = {id(self.emission), id(self.crf)}
        for layer in nested_layers(self):
            if id(layer) not in keep:
                layer.dtype_policy = policy

    def sequence_lengths(self, token_ids):
        """Tokens per row of padded ids (the embedding layer knows its id layout)."""
        return self.embedding.sequence_lengths(token_ids)

    def call(self, token_ids, training=False):
        lengths = self.sequence_lengths(token_ids)
        x = self.input_dropout(self.embedding(token_ids, training=training), training=training)
        for rnn in self.rnns:
            x = rnn(x, lengths, training=training)
        emissions = self.emission(self.output_dropout(x, training=training))
        return self.crf(emissions) if self.crf is not None else emissions

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        lengths = self.sequence_lengths(x)
        if self.crf is not None:
            per_sentence = -self.crf.log_likelihood(y_pred, y, lengths)
        else:
            mask = tf.sequence_mask(lengths, tf.shape(y)[1], dtype=tf.float32)
            token_loss = keras.losses.sparse_categorical_crossentropy(tf.where(mask > 0, y, 0), y_pred, from_logits=True)
            per_sentence = tf.reduce_sum(token_loss * mask, axis=1)
        if sample_weight is not None:
            per_sentence = per_sentence * tf.cast(sample_weight, per_sentence.dtype)
        # Mean over this replica's sentences (0 for an empty share of a small batch), scaled so
        # that the gradients summed over replicas are those of the global mean, as Keras's losses do.
        loss = tf.math.divide_no_nan(tf.reduce_sum(per_sentence), tf.cast(tf.size(per_sentence), per_sentence.dtype))
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
        if self.losses:
            loss = loss + tf.add_n([tf.cast(l, loss.dtype) for l in self.losses])
        return loss

    def _per_replica_logs(self, logs):
        # Keras (3.15) reduces each step's logs across workers with reduce(MEAN, axis=0), which
        # fails on scalars under MultiWorkerMirroredStrategy (tensorflow/tensorflow#72388);
        # as one-element vectors they reduce to the same scalar.
        if isinstance(self.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def test_step(self, data):
        return self._per_replica_logs(super().test_step(data))

    def train_step(self, data):
        return self._per_replica_logs(self._train_step(data))

    def _train_step(self, data):
        if self.encoder_optimizer is None:
            return super().train_step(data)
        # Keras's train_step, with the encoder's variables updated by their own optimizer.
        encoder_paths = {v.path for v in self.embedding.encoder_variables}
        return train_step_two_optimizers(self, data, self.encoder_optimizer, encoder_paths)

    def decode(self, token_ids, constrained=True):
        """Best tag ids ``[B, T]`` (values beyond each length are meaningless)."""
        emissions = self(token_ids, training=False)
        if self.crf is None:
            return tf.argmax(emissions, axis=-1, output_type=tf.int32)
        tags, _ = self.crf.decode(emissions, self.sequence_lengths(token_ids), constrained=constrained)
        return tags
