"""The Keras CRF and BiLSTM layers against the numpy reference."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.core.decoding import constrain, log_partition, path_score, viterbi_decode
from bilstm_crf_ner.keras.layers import CRF, LengthAwareBiLSTM, crf_decode, crf_log_likelihood
from bilstm_crf_ner.core.tags import allowed_transitions, is_valid, tag_inventory


@st.composite
def batches(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    k, t, b = draw(st.integers(1, 6)), draw(st.integers(1, 9)), draw(st.integers(1, 4))
    lengths = np.array([draw(st.integers(1, t)) for _ in range(b)], dtype=np.int32)
    emissions = rng.normal(size=(b, t, k)).astype(np.float32) * 2
    tags = rng.integers(0, k, size=(b, t)).astype(np.int32)
    params = [rng.normal(size=s).astype(np.float32) for s in [(k, k), (k,), (k,)]]
    return emissions, tags, lengths, params


@settings(max_examples=40, deadline=None)
@given(batches())
def test_tf_log_likelihood_and_viterbi_match_numpy(batch):
    emissions, tags, lengths, params = batch
    expected = path_score(emissions, tags, lengths, *params) - log_partition(emissions, lengths, *params)
    np.testing.assert_allclose(crf_log_likelihood(emissions, tags, lengths, *params).numpy(), expected, atol=1e-4)
    tf_tags, tf_scores = crf_decode(emissions, lengths, *params)
    np_paths, np_scores = viterbi_decode(emissions, lengths, *params)
    np.testing.assert_allclose(tf_scores.numpy(), np_scores, atol=1e-4)
    for row, path in enumerate(np_paths):
        assert tf_tags.numpy()[row, : lengths[row]].tolist() == path.tolist()


def test_padding_is_ignored_exactly_by_loss_and_decoding():
    rng = np.random.default_rng(3)
    crf = CRF(5)
    single = rng.normal(size=(1, 4, 5)).astype(np.float32)
    padded = np.concatenate([single, rng.normal(size=(1, 3, 5)).astype(np.float32) * 100], axis=1)
    tags = np.array([[1, 2, 3, 4]], dtype=np.int32)
    padded_tags = np.array([[1, 2, 3, 4, 0, 3, 2]], dtype=np.int32)
    a = crf.log_likelihood(single, tags, [4]).numpy()
    b = crf.log_likelihood(padded, padded_tags, [4]).numpy()
    assert a == pytest.approx(b, abs=1e-5)
    assert crf.decode(single, [4])[0].numpy()[0].tolist() == crf.decode(padded, [4])[0].numpy()[0, :4].tolist()


def test_constrained_layer_decodes_valid_sequences_and_matches_numpy():
    tags = tag_inventory(["PER", "LOC"], "BIOES")
    allowed = allowed_transitions(tags, "BIOES")
    crf = CRF(len(tags), *allowed)
    crf.build()
    rng = np.random.default_rng(0)
    emissions = rng.normal(size=(8, 10, len(tags))).astype(np.float32) * 4
    lengths = rng.integers(1, 11, size=8)
    decoded, _ = crf.decode(emissions, lengths)
    params = constrain(crf.transitions.numpy(), crf.start_scores.numpy(), crf.end_scores.numpy(), allowed)
    reference, _ = viterbi_decode(emissions, lengths, *params)
    for row, length in enumerate(lengths):
        path = decoded.numpy()[row, :length]
        assert path.tolist() == reference[row].tolist()
        assert is_valid([tags[i] for i in path], "BIOES")


def test_crf_config_round_trip_and_gradients_are_finite():
    tags = tag_inventory(["PER"], "BIO")
    crf = CRF(len(tags), *allowed_transitions(tags, "BIO"), name="crf")
    clone = CRF.from_config(crf.get_config())
    assert all((a == b).all() for a, b in zip(crf.allowed, clone.allowed))
    crf.build()
    emissions = tf.Variable(np.random.default_rng(0).normal(size=(2, 6, len(tags))).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = -tf.reduce_sum(crf.log_likelihood(emissions, np.zeros((2, 6), np.int32), [6, 2]))
    grads = tape.gradient(loss, [emissions, crf.transitions.value])
    assert all(np.isfinite(g.numpy()).all() for g in grads)
    assert np.abs(grads[0].numpy()[1, 2:]).max() == 0  # no gradient flows into padding


def test_crf_rejects_mismatched_masks():
    with pytest.raises(ValueError, match="shapes"):
        CRF(3, np.ones((2, 2), bool), np.ones(2, bool), np.ones(2, bool))


def test_bilstm_gives_identical_outputs_alone_and_in_a_padded_batch():
    rng = np.random.default_rng(1)
    layer = LengthAwareBiLSTM(8)
    lengths = np.array([7, 3, 1, 5], dtype=np.int32)
    x = rng.normal(size=(4, 7, 5)).astype(np.float32)
    batch = layer(x, lengths).numpy()
    for row, length in enumerate(lengths):
        alone = layer(x[row : row + 1, :length], lengths[row : row + 1]).numpy()
        np.testing.assert_allclose(batch[row, :length], alone[0], atol=1e-6)
    # The backward half at position 0 must depend on the last real token, not on padding.
    changed = x.copy()
    changed[1, 3:] = 50.0
    np.testing.assert_allclose(layer(changed, lengths).numpy()[1, :3], batch[1, :3], atol=1e-6)
    assert layer.compute_output_shape((None, None, 5)) == (None, None, 16)
