"""One test per private Keras / keras-hub API that ``bilstm_crf_ner.keras.compat`` touches.

Each fails loudly when an upgrade of Keras or keras-hub removes, renames or changes the
meaning of the private name the library depends on. Tiny shapes: seconds each.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from bert_support import numpy_bert, random_weights, tiny_config, write_hf_checkpoint
from bilstm_crf_ner.keras import compat
from bilstm_crf_ner.keras.network import TaggerNetwork

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmno")


def _backbone(config):
    from keras_hub.models import BertBackbone

    from bilstm_crf_ner.keras.bert.checkpoint import backbone_config

    return BertBackbone(**backbone_config(config, "test"), dropout=0.0)


def _sequence_output(backbone, ids):
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    return np.asarray(backbone(inputs)["sequence_output"])


def _tiny_bert(tmp_path, act, eps):
    from bilstm_crf_ner.keras.bert.checkpoint import port_weights, read_checkpoint

    config = tiny_config(len(VOCAB), hidden=8, layers=2, heads=2, intermediate=16, positions=16, act=act)
    config["layer_norm_eps"] = eps
    weights = random_weights(config, seed=3)
    checkpoint = read_checkpoint(write_hf_checkpoint(tmp_path / "bert", VOCAB, config, weights))
    backbone = _backbone(config)
    port_weights(backbone, checkpoint)  # -> compat.convert_bert_weights
    ids = np.array([[2, 7, 9, 11, 5, 3], [2, 19, 6, 8, 14, 3]], dtype="int32")
    return config, weights, backbone, ids


# ------------------------------------------------------------------ keras-hub BERT converter
def test_keras_hub_bert_converter_maps_a_hugging_face_checkpoint(tmp_path):
    from keras_hub.src.utils.transformers.convert_bert import convert_weights

    assert list(inspect.signature(convert_weights).parameters) == ["backbone", "loader", "transformers_config"]
    # keras-hub's own numerics (tanh GELU, epsilon 1e-12), so only the weight mapping is tested.
    config, weights, backbone, ids = _tiny_bert(tmp_path, "gelu_new", 1e-12)
    np.testing.assert_array_equal(backbone.token_embedding.embeddings.numpy(),
                                  weights["embeddings.word_embeddings.weight"])
    reference = numpy_bert(weights, config, ids, np.ones_like(ids, dtype=bool))[-1]
    np.testing.assert_allclose(_sequence_output(backbone, ids), reference, atol=2e-5)


# ------------------------------------------------------------ keras-hub transformer sublayers
def test_transformer_block_numerics_are_set_through_private_sublayers(tmp_path):
    config, weights, backbone, ids = _tiny_bert(tmp_path, "gelu", 1e-3)  # exact GELU, a large epsilon
    reference = numpy_bert(weights, config, ids, np.ones_like(ids, dtype=bool))[-1]
    before = _sequence_output(backbone, ids)
    assert np.abs(before - reference).max() > 1e-3  # keras-hub's defaults differ: the setter must matter

    from bilstm_crf_ner.keras.transformers.numerics import exact_gelu

    for block in backbone.transformer_layers:
        compat.set_transformer_block_numerics(block, exact_gelu, 1e-3)
    backbone.embeddings_layer_norm.epsilon = 1e-3
    np.testing.assert_allclose(_sequence_output(backbone, ids), reference, atol=2e-5)


# --------------------------------------------------------------------- Keras: the tagger network
class TinyEmbedding(keras.layers.Layer):
    """Ids -> vectors, with the two extras TaggerNetwork asks of an embedding layer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lookup = keras.layers.Embedding(12, 4, name="lookup")

    def call(self, ids, training=False):
        return self.lookup(ids)

    @staticmethod
    def sequence_lengths(ids):
        return tf.reduce_sum(tf.cast(tf.not_equal(ids, 0), tf.int32), axis=1)

    @property
    def encoder_variables(self):
        return self.lookup.trainable_variables


IDS = np.array([[3, 4, 5, 0], [6, 7, 8, 9], [1, 2, 0, 0], [10, 11, 3, 2]], dtype="int32")
TAGS = np.array([[0, 1, 2, 0], [2, 2, 0, 1], [1, 0, 0, 0], [0, 0, 1, 2]], dtype="int32")


def _network(encoder_optimizer=None, learning_rate=0.1):
    keras.utils.set_random_seed(5)
    network = TaggerNetwork(TinyEmbedding(), num_tags=3, lstm_units=4, dropout=0.0, name="tagger")
    network(IDS)
    network.compile(optimizer=keras.optimizers.SGD(learning_rate))
    if encoder_optimizer is not None:
        network.encoder_optimizer = encoder_optimizer
        encoder_paths = {v.path for v in network.embedding.encoder_variables}
        encoder_optimizer.build(network.embedding.encoder_variables)
        network.optimizer.build([v for v in network.trainable_variables if v.path not in encoder_paths])
    return network


def _dataset():
    return tf.data.Dataset.from_tensor_slices((IDS, TAGS)).batch(len(IDS))


def test_flatten_layers_yields_every_nested_layer():
    assert list(inspect.signature(keras.layers.Layer._flatten_layers).parameters) == [
        "self", "include_self", "recursive"]
    network = _network()
    found = {id(layer) for layer in compat.nested_layers(network)}
    rnn = network.rnns[0]
    expected = [network.embedding, network.embedding.lookup, rnn, rnn.forward_lstm, rnn.forward_lstm.cell,
                rnn.backward_lstm, network.emission, network.crf]
    assert all(id(layer) in found for layer in expected)
    assert id(network) not in found
    network.set_compute_policy("mixed_bfloat16")  # what the library uses it for
    assert rnn.forward_lstm.cell.compute_dtype == "bfloat16"
    assert network.emission.compute_dtype == "float32"


def test_loss_tracker_is_what_fit_reports_as_loss():
    network = _network(encoder_optimizer=keras.optimizers.SGD(0.0), learning_rate=0.0)  # the custom step
    tracker = network._loss_tracker
    assert isinstance(tracker, keras.metrics.Mean) and tracker.name == "loss"
    assert network.metrics[0] is tracker
    expected = float(network.compute_loss(x=IDS, y=TAGS, y_pred=network(IDS), training=False))
    history = network.fit(_dataset(), epochs=1, verbose=0, shuffle=False)  # learning rate 0: the weights stay
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_copied_train_step_matches_keras_train_step():
    # Plain SGD has no state, so updating the encoder with a second SGD of the same rate must
    # give exactly Keras's own step: same reported loss, same new weights.
    keras_path = _network()
    ours = _network(encoder_optimizer=keras.optimizers.SGD(0.1))
    ours.set_weights(keras_path.get_weights())
    keras_loss = keras_path.fit(_dataset(), epochs=2, verbose=0, shuffle=False).history["loss"]
    our_loss = ours.fit(_dataset(), epochs=2, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(our_loss, keras_loss, rtol=1e-5)
    for a, b in zip(ours.get_weights(), keras_path.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(ours.embedding.lookup.embeddings.numpy(),
                           _network().embedding.lookup.embeddings.numpy())  # the encoder did train


def test_maybe_symbolic_build_is_called_by_fit_with_the_epoch_iterator(monkeypatch):
    parameters = list(inspect.signature(keras.Model._maybe_symbolic_build).parameters)
    assert parameters == ["self", "iterator", "data_batch"]
    keras_build = keras.Model._maybe_symbolic_build
    ours_build = compat.LocalFirstBatchBuildMixin._maybe_symbolic_build
    ours_calls, keras_calls = [], []

    def ours_spy(self, iterator=None, data_batch=None):
        ours_calls.append(iterator)
        return ours_build(self, iterator=iterator, data_batch=data_batch)

    def keras_spy(self, iterator=None, data_batch=None):
        keras_calls.append((iterator, data_batch))
        return keras_build(self, iterator=iterator, data_batch=data_batch)

    monkeypatch.setattr(compat.LocalFirstBatchBuildMixin, "_maybe_symbolic_build", ours_spy)
    monkeypatch.setattr(keras.Model, "_maybe_symbolic_build", keras_spy)
    network = _network()
    network.fit(_dataset(), epochs=1, verbose=0, shuffle=False)
    assert any(iterator is not None for iterator in ours_calls), "fit no longer calls _maybe_symbolic_build"
    # Ours read the first (x, y) batch from the iterator's (begin, end, iterator) triples and
    # passed it on instead of the iterator.
    iterator, batch = keras_calls[0]
    assert iterator is None
    x, y = batch[:2]
    np.testing.assert_array_equal(np.asarray(x), IDS)
    np.testing.assert_array_equal(np.asarray(y), TAGS)
