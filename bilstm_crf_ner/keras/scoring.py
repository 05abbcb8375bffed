"""The Keras network as the emission scorer of the shared prediction pipeline."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..core.predictor import EmissionScorer


class KerasScorer(EmissionScorer):
    """Emissions from a :class:`~bilstm_crf_ner.keras.network.TaggerNetwork` (one compiled
    function, traced once per input rank); CRF scores read from its current weights, so a
    model that keeps training predicts with its latest ones."""

    def __init__(self, network, input_spec: tf.TensorSpec, constrained: bool = True):
        self.network, self.constrained = network, constrained

        @tf.function(input_signature=[input_spec], reduce_retracing=True)
        def emissions(token_ids):
            return tf.cast(network(token_ids, training=False), tf.float32)

        self._emissions = emissions

    def emissions(self, ids: np.ndarray) -> np.ndarray:
        return self._emissions(tf.constant(ids)).numpy()

    def crf_scores(self):
        crf = self.network.crf
        if crf is None:
            return None
        return tuple(t.numpy() for t in crf.scores(self.constrained))
