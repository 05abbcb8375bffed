"""A linear-chain CRF as a Keras layer, with the math as plain TensorFlow functions.

The layer owns the learned scores (transition matrix, start and end scores) and the fixed
constraint masks of the tag scheme; it computes nothing on its own in ``call`` (emissions
pass through unchanged) so the network stays a plain emission model that exports cleanly.
The loss and decoding are functions of (emissions, tags, lengths, weights) and keep no state
between calls, so a model loaded from disk trains and decodes exactly like the original.

Example:

>>> import numpy as np
>>> crf = CRF(num_tags=3)
>>> emissions = np.random.rand(2, 5, 3).astype("float32")
>>> tags, scores = crf.decode(emissions, np.array([5, 2]))
>>> tags.shape
TensorShape([2, 5])
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ...core.decoding import FORBIDDEN


def _constrained(transitions, start, end, allowed):
    if allowed is None:
        return transitions, start, end
    allowed_trans, allowed_start, allowed_end = allowed
    penalty = tf.constant(FORBIDDEN, dtype=transitions.dtype)
    return (
        tf.where(allowed_trans, transitions, transitions + penalty),
        tf.where(allowed_start, start, start + penalty),
        tf.where(allowed_end, end, end + penalty),
    )


def crf_log_likelihood(emissions, tags, lengths, transitions, start, end):
    """Per-sequence log-likelihood ``[B]`` of ``tags [B, T]`` under a linear-chain CRF.

    Positions at or beyond ``lengths`` are ignored exactly (they change neither the gold
    score nor the partition function). Sequences must have length >= 1.
    """
    emissions = tf.convert_to_tensor(emissions, tf.float32)
    tags = tf.cast(tags, tf.int32)
    lengths = tf.cast(lengths, tf.int32)
    time = tf.shape(emissions)[1]
    mask = tf.sequence_mask(lengths, time)
    maskf = tf.cast(mask, emissions.dtype)
    tags = tf.where(mask, tags, 0)

    # Score of the gold path.
    emit = tf.gather(emissions, tags, batch_dims=2)
    gold = tf.reduce_sum(emit * maskf, axis=1)
    pair_index = tf.stack([tags[:, :-1], tags[:, 1:]], axis=-1)
    gold += tf.reduce_sum(tf.gather_nd(transitions, pair_index) * maskf[:, 1:], axis=1)
    last = tf.gather(tags, tf.maximum(lengths - 1, 0), batch_dims=1)
    gold += tf.gather(start, tags[:, 0]) + tf.gather(end, last)

    # Partition function by the forward algorithm, one step per time position.
    steps = tf.transpose(emissions[:, 1:], [1, 0, 2])
    step_mask = tf.transpose(mask[:, 1:], [1, 0])

    def forward(alpha, inputs):
        emission, active = inputs
        nxt = tf.reduce_logsumexp(alpha[:, :, None] + transitions[None], axis=1) + emission
        return tf.where(active[:, None], nxt, alpha)

    alpha0 = start[None, :] + emissions[:, 0]
    alpha = tf.foldl(forward, (steps, step_mask), initializer=alpha0)
    log_z = tf.reduce_logsumexp(alpha + end[None, :], axis=1)
    return gold - log_z


def crf_decode(emissions, lengths, transitions, start, end):
    """Viterbi decoding in-graph: ``(tags [B, T] int32, best scores [B])``.

    Tags beyond each length repeat the last real tag and must be ignored by the caller.
    """
    emissions = tf.convert_to_tensor(emissions, tf.float32)
    lengths = tf.cast(lengths, tf.int32)
    batch, time, num_tags = tf.shape(emissions)[0], tf.shape(emissions)[1], tf.shape(emissions)[2]
    mask = tf.sequence_mask(lengths, time)
    # One trailing inactive step (score kept, identity backpointers) so the scans never run
    # zero times: with a dynamic time axis, a scan over an empty sequence cannot stack its
    # results (a batch of one-token sentences would fail).
    steps = tf.transpose(tf.pad(emissions[:, 1:], [[0, 0], [0, 1], [0, 0]]), [1, 0, 2])
    step_mask = tf.transpose(tf.pad(mask[:, 1:], [[0, 0], [0, 1]]), [1, 0])
    identity = tf.broadcast_to(tf.range(num_tags)[None, :], [batch, num_tags])

    def forward(carry, inputs):
        score, _ = carry
        emission, active = inputs
        candidates = score[:, :, None] + transitions[None]
        best = tf.argmax(candidates, axis=1, output_type=tf.int32)
        nxt = tf.reduce_max(candidates, axis=1) + emission
        return tf.where(active[:, None], nxt, score), tf.where(active[:, None], best, identity)

    score0 = start[None, :] + emissions[:, 0]
    scores, backpointers = tf.scan(forward, (steps, step_mask), initializer=(score0, identity))
    final = scores[-1] + end[None, :]
    last = tf.argmax(final, axis=1, output_type=tf.int32)
    best_score = tf.reduce_max(final, axis=1)

    def backward(tag, pointers):
        return tf.gather(pointers, tag, batch_dims=1)

    # backpointers[i] maps the tag at i + 1 to the best tag at i; the padded last step maps
    # ``last`` to itself, so the reversed scan yields the tags at positions 0 .. T-1.
    tags = tf.transpose(tf.scan(backward, backpointers, initializer=last, reverse=True), [1, 0])
    return tags, best_score


@keras.saving.register_keras_serializable(package="bilstm_crf_ner")
class CRF(keras.layers.Layer):
    """Linear-chain CRF scores: transitions ``[K, K]`` plus start and end scores ``[K]``.

    Args:
        num_tags: number of tags ``K``.
        allowed_transitions, allowed_start, allowed_end: optional boolean masks (nested lists
            or arrays) of the tag scheme, e.g. from :func:`bilstm_crf_ner.core.tags.allowed_transitions`.
            Forbidden moves are penalised in training and decoding alike, so the model can never
            emit an invalid sequence.
    """

    def __init__(self, num_tags, allowed_transitions=None, allowed_start=None, allowed_end=None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # CRF sums stay in float32 under mixed precision
        super().__init__(**kwargs)
        self.num_tags = int(num_tags)
        masks = (allowed_transitions, allowed_start, allowed_end)
        if any(m is None for m in masks) and not all(m is None for m in masks):
            raise ValueError("give all three constraint masks or none")
        self._allowed = None if masks[0] is None else tuple(np.asarray(m, dtype=bool) for m in masks)
        if self._allowed is not None:
            shapes = [m.shape for m in self._allowed]
            if shapes != [(self.num_tags, self.num_tags), (self.num_tags,), (self.num_tags,)]:
                raise ValueError(f"constraint masks have shapes {shapes}, expected K={self.num_tags}")

    def build(self, input_shape=None):
        init = keras.initializers.RandomUniform(-0.1, 0.1)
        self.transitions = self.add_weight(name="transitions", shape=(self.num_tags, self.num_tags), initializer=init)
        self.start_scores = self.add_weight(name="start_scores", shape=(self.num_tags,), initializer=init)
        self.end_scores = self.add_weight(name="end_scores", shape=(self.num_tags,), initializer=init)
        self.built = True

    def call(self, emissions):
        return emissions

    def compute_output_shape(self, input_shape):
        return input_shape

    def scores(self, constrained=True):
        """``(transitions, start, end)`` tensors, with constraint penalties applied if asked."""
        if not self.built:
            self.build()
        weights = (tf.convert_to_tensor(self.transitions), tf.convert_to_tensor(self.start_scores), tf.convert_to_tensor(self.end_scores))
        return _constrained(*weights, self._allowed if constrained else None)

    def log_likelihood(self, emissions, tags, lengths):
        return crf_log_likelihood(tf.cast(emissions, tf.float32), tags, lengths, *self.scores())

    def decode(self, emissions, lengths, constrained=True):
        return crf_decode(tf.cast(emissions, tf.float32), lengths, *self.scores(constrained))

    @property
    def allowed(self):
        """The constraint masks ``(transitions, start, end)`` as numpy arrays, or ``None``."""
        return self._allowed

    def get_config(self):
        config = super().get_config()
        config["num_tags"] = self.num_tags
        names = ("allowed_transitions", "allowed_start", "allowed_end")
        for name, mask in zip(names, self._allowed or (None, None, None)):
            config[name] = None if mask is None else mask.tolist()
        return config
