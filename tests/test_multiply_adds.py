"""Multiply-adds of an OpenVINO model, read from a run: against counts written out by hand for a
graph with each counted op type, a data-dependent recurrent length included."""

import numpy as np
import openvino as ov
import pytest
from openvino import opset13 as ops

from bilstm_crf_ner.runtime.multiply_adds import multiply_adds
from ir_support import constant as _c


def tagger_like(hidden=4, heads=2, depth=3, units=5, tags=7):
    """ids [B, T] -> embedding -> attention -> a BiLSTM over the first max(lengths) steps -> emissions."""
    rng = np.random.default_rng(0)
    ids = ops.parameter([-1, -1], np.int32, name="ids")
    x = ops.gather(_c(rng.normal(size=(20, hidden))), ids, _c(0, np.int64))                    # [B, T, hidden]
    heads_of = lambda v: ops.transpose(ops.reshape(ops.matmul(v, _c(rng.normal(size=(hidden, heads * depth))), False, False),
                                                   _c([0, 0, heads, depth], np.int64), True), _c([0, 2, 1, 3], np.int64))
    q, k, v = heads_of(x), heads_of(x), heads_of(x)                                             # [B, H, T, D]
    context = ops.scaled_dot_product_attention(q, k, v, causal=False)
    merged = ops.reshape(ops.transpose(context, _c([0, 2, 1, 3], np.int64)), _c([0, 0, heads * depth], np.int64), True)
    real = ops.convert(ops.greater(ids, _c(0, np.int32)), "i32")
    lengths = ops.reduce_sum(real, _c([1], np.int64), False)                                    # [B]
    longest = ops.reduce_max(lengths, _c([0], np.int64), True)
    steps = ops.slice(merged, _c([0], np.int64), longest, _c([1], np.int64), _c([1], np.int64))  # data-dependent T'
    batch = ops.gather(ops.shape_of(ids), _c([0], np.int64), _c(0, np.int64))
    state = ops.broadcast(_c(0.0), ops.concat([batch, _c([2, units], np.int64)], 0))
    lstm = ops.lstm_sequence(steps, state, state, ops.convert(lengths, "i32"),
                             _c(rng.normal(size=(2, 4 * units, heads * depth))), _c(rng.normal(size=(2, 4 * units, units))),
                             _c(np.zeros((2, 4 * units))), units, "bidirectional")
    out = ops.reshape(ops.transpose(lstm.output(0), _c([0, 2, 1, 3], np.int64)), _c([0, 0, 2 * units], np.int64), True)
    emissions = ops.matmul(out, _c(rng.normal(size=(2 * units, tags))), False, False)
    return ov.Model([emissions], [ids])


@pytest.mark.parametrize("longest", [4, 9])
def test_counts_equal_the_hand_count_at_the_lengths_the_data_gives(longest):
    hidden, heads, depth, units, tags, batch, padded = 4, 2, 3, 5, 7, 3, 9
    ids = np.zeros((batch, padded), np.int32)
    ids[:, :2] = 1
    ids[1, :longest] = 2  # the BiLSTM runs over the longest row only
    counts = multiply_adds(tagger_like(hidden, heads, depth, units, tags), ids)
    width = heads * depth
    projections = 3 * batch * padded * hidden * width
    attention = 2 * batch * heads * padded * padded * depth
    recurrent = batch * longest * 2 * 4 * units * (width + units)
    emissions = batch * longest * 2 * units * tags
    assert counts["by_op_type"] == {"MatMul": projections + emissions, "ScaledDotProductAttention": attention,
                                    "LSTMSequence": recurrent}
    assert counts["total"] == projections + emissions + attention + recurrent and counts["uncounted"] == []


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_gru_and_rnn_sequences_count_their_own_weights(cell):
    """GRU and RNN sequences take (X, H0, lengths, W, R, B): a gate count of 3 and 1."""
    batch, steps, inputs, units, gates = 2, 6, 4, 5, 3 if cell == "gru" else 1
    rng = np.random.default_rng(4)
    x = ops.parameter([batch, steps, inputs], np.float32)
    args = (x, _c(np.zeros((batch, 1, units))), _c(np.full(batch, steps), np.int32),
            _c(rng.normal(size=(1, gates * units, inputs))), _c(rng.normal(size=(1, gates * units, units))),
            _c(np.zeros((1, gates * units))), units, "forward")
    sequence = ops.gru_sequence(*args) if cell == "gru" else ops.rnn_sequence(*args)
    counts = multiply_adds(ov.Model([sequence.output(0)], [x]), np.zeros((batch, steps, inputs), np.float32))
    assert counts["total"] == batch * steps * gates * units * (inputs + units)


def test_products_it_cannot_count_are_named_and_a_model_with_two_inputs_is_refused():
    a, b = ops.parameter([2, 3], np.float32), ops.parameter([3, 4], np.float32)
    einsum = ov.Model([ops.einsum([a, b], "ij,jk->ik")], [a, b])
    with pytest.raises(ValueError, match="one input"):
        multiply_adds(einsum, np.zeros((2, 3), np.float32))
    x = ops.parameter([2, 3], np.float32)
    model = ov.Model([ops.einsum([x, _c(np.ones((3, 4)))], "ij,jk->ik")], [x])
    assert multiply_adds(model, np.zeros((2, 3), np.float32)) == {"total": 0, "by_op_type": {}, "uncounted": ["Einsum"]}
