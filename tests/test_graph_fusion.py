"""IR rewrites into MVN and ScaledDotProductAttention: on graphs built like tf2onnx's lowering of
Keras layer norm and keras-hub attention, against numpy; blocks that differ in any constant the
rewrite relies on stay as they are. (Real exports: tests/test_bert.py and test_transformers.py.)"""

import numpy as np
import openvino as ov
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openvino import opset13 as ops

from bilstm_crf_ner.export.graph_fusion import fuse_transformer_blocks
from ir_support import constant as _c


def layer_norm_graph(channels: int, eps: float = 1e-12, axis: int = -1, minus_one: float = -1.0,
                     shift_gamma: bool = False, shift_axis: int = -1, keep_dims: bool = True, swapped: bool = False):
    """TensorFlow's ``batch_normalization(x, *moments(x))`` as tf2onnx + OpenVINO write it; the
    options change one thing each (a second gamma or another axis for the shift's scale or mean,
    operands in the other order)."""
    rng = np.random.default_rng(channels)
    gamma, beta, other = (rng.normal(size=channels).astype(np.float32) for _ in range(3))
    x = ops.parameter([-1, -1, channels], np.float32, name="x")
    mean = ops.reduce_mean(x, _c([axis], np.int64), keep_dims)
    diff = ops.subtract(x, mean)
    variance = ops.reduce_mean(ops.multiply(diff, diff), _c([axis], np.int64), keep_dims)
    inverse = ops.divide(_c(1.0), ops.sqrt(ops.add(variance, _c(eps))))
    scale = ops.multiply(inverse, _c(gamma))
    shift_scale = ops.multiply(inverse, _c(other)) if shift_gamma else scale
    shift_mean = mean if shift_axis == axis else ops.reduce_mean(x, _c([shift_axis], np.int64), True)
    negated = ops.multiply(_c(minus_one), shift_mean) if swapped else ops.multiply(shift_mean, _c(minus_one))
    shift = ops.add(ops.multiply(negated, shift_scale), _c(beta))
    scaled = ops.multiply(scale, x) if swapped else ops.multiply(x, scale)
    out = ops.add(shift, scaled) if swapped else ops.add(scaled, shift)
    return ov.Model([out], [x]), (gamma, beta, eps)


def attention_graph(heads: int, depth: int, bias: float = -1e9, query_order=(0, 2, 3, 1), zero: float = 0.0,
                    keep_negated: bool = False, float_mask: bool = False, second_mask: bool = False,
                    transpose_key: bool = False, key_rank: int = 4):
    """keras-hub's masked-softmax attention as tf2onnx + OpenVINO write it; the options change
    one thing each."""
    query = ops.parameter([-1, -1, heads, depth], np.float32, name="query")  # [B, T, H, D], scaled
    key_shape = [-1, heads, -1, depth] if key_rank == 4 else [-1, depth]
    key = ops.parameter(key_shape, np.float32, name="key")                   # [B, H, T, D]
    value = ops.parameter([-1, heads, -1, depth], np.float32, name="value")
    mask_type = np.float32 if float_mask else np.bool_
    mask = ops.parameter([-1, 1, 1, -1], mask_type, name="mask")             # True = real key
    other_mask = ops.parameter([-1, 1, 1, -1], np.bool_, name="other_mask")
    key_input = ops.transpose(key, _c([0, 1, 3, 2], np.int64)) if transpose_key else key
    scores = ops.transpose(ops.matmul(key_input, ops.transpose(query, _c(query_order, np.int64)), transpose_key, False),
                           _c([0, 1, 3, 2], np.int64))
    keep = ops.convert(ops.logical_not(mask) if keep_negated else mask, "f32")
    dropped = ops.convert(ops.logical_not(other_mask if second_mask else mask), "f32")
    probs = ops.softmax(ops.add(ops.multiply(scores, keep), ops.multiply(dropped, _c(np.full((1, 1, 1, 1), bias)))), -1)
    masked = ops.add(ops.multiply(probs, keep), ops.multiply(dropped, _c(np.full((1, 1, 1, 1), zero))))
    out = ops.matmul(masked, value, False, False)
    return ov.Model([out], [query, key, value, mask] + ([other_mask] if second_mask else []))


def _run(model, *inputs):
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled.create_infer_request().infer(list(inputs))[0]


def _types(model):
    return [op.get_type_name() for op in model.get_ordered_ops()]


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 9), st.sampled_from([8, 32]), st.sampled_from([1e-12, 1e-5, 1e-3]))
def test_layer_norm_becomes_mvn_and_computes_the_same(batch, time, channels, eps):
    model, (gamma, beta, eps) = layer_norm_graph(channels, eps)
    x = np.random.default_rng(batch * time).normal(3.0, 2.0, size=(batch, time, channels)).astype(np.float32)
    assert fuse_transformer_blocks(model) == {"layer_norm": 1, "attention": 0}
    assert "ReduceMean" not in _types(model) and "MVN" in _types(model)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(_run(model, x), (x - mean) / np.sqrt(var + eps) * gamma + beta, rtol=1e-5, atol=1e-5)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 12), st.sampled_from([1, 4]), st.data())
def test_attention_becomes_sdpa_and_computes_the_same(batch, time, heads, data):
    depth = 8
    rng = np.random.default_rng(batch * 100 + time)
    lengths = data.draw(st.lists(st.integers(0, time), min_size=batch, max_size=batch))
    query = rng.normal(size=(batch, time, heads, depth)).astype(np.float32)
    key, value = (rng.normal(size=(batch, heads, time, depth)).astype(np.float32) for _ in range(2))
    mask = (np.arange(time)[None, :] < np.array(lengths)[:, None])[:, None, None, :]
    model = attention_graph(heads, depth)
    before = _run(model, query, key, value, mask)
    assert fuse_transformer_blocks(model) == {"layer_norm": 0, "attention": 1}
    assert "Softmax" not in _types(model) and "ScaledDotProductAttention" in _types(model)
    after = _run(model, query, key, value, mask)
    q = query.transpose(0, 2, 1, 3)
    scores = np.where(mask, q @ key.transpose(0, 1, 3, 2), -np.inf)
    probs = np.exp(scores - scores.max(-1, keepdims=True, initial=-1e30))
    expected = (probs / np.maximum(probs.sum(-1, keepdims=True), 1e-30)) @ value
    real = np.array(lengths) > 0  # rows of a whole padded sentence differ (documented) but stay finite
    np.testing.assert_allclose(after[real], expected[real], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(before[real], expected[real], rtol=1e-4, atol=1e-5)
    assert np.isfinite(after).all()


@pytest.mark.parametrize("swapped", [False, True])
def test_layer_norms_in_either_operand_order_fuse(swapped):
    model, _ = layer_norm_graph(8, swapped=swapped)
    assert fuse_transformer_blocks(model)["layer_norm"] == 1


@pytest.mark.parametrize("change", [{"eps": 0.0}, {"axis": 1}, {"minus_one": -2.0}, {"keep_dims": False},
                                    {"shift_gamma": True}, {"shift_gamma": True, "swapped": True},
                                    {"shift_axis": 1}, {"shift_axis": 1, "swapped": True}])
def test_layer_norms_that_differ_stay_as_they_are(change):
    model, _ = layer_norm_graph(8, **change)
    before = _types(model)
    assert fuse_transformer_blocks(model) == {"layer_norm": 0, "attention": 0}
    assert _types(model) == before


@pytest.mark.parametrize("change", [{"bias": -1.0}, {"query_order": (0, 2, 1, 3)}, {"zero": 0.5},
                                    {"keep_negated": True}, {"float_mask": True}, {"second_mask": True},
                                    {"transpose_key": True}, {"key_rank": 2}])
def test_attention_that_differs_stays_as_it_is(change):
    depth = 4 if "query_order" in change else 8  # query read as [B, T, D, H]: valid, another meaning
    model = attention_graph(4, depth, **change)
    before = _types(model)
    assert fuse_transformer_blocks(model) == {"layer_norm": 0, "attention": 0}
    assert _types(model) == before
