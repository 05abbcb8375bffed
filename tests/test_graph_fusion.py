"""IR rewrites into MVN and ScaledDotProductAttention: on graphs built like tf2onnx's lowering of
Keras layer norm and keras-hub attention, against numpy; blocks that differ in any constant the
rewrite relies on stay as they are. (Real exports: tests/test_bert.py and test_transformers.py.)"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ov = pytest.importorskip("openvino")
from openvino import opset13 as ops  # noqa: E402

from bilstm_crf_ner.export.graph_fusion import fuse_transformer_blocks  # noqa: E402


def _c(value, dtype=np.float32):
    return ops.constant(np.asarray(value, dtype=dtype))


def layer_norm_graph(channels: int, eps: float = 1e-12, axis: int = -1, minus_one: float = -1.0):
    """TensorFlow's ``batch_normalization(x, *moments(x))`` as tf2onnx + OpenVINO write it."""
    rng = np.random.default_rng(channels)
    gamma, beta = rng.normal(size=channels).astype(np.float32), rng.normal(size=channels).astype(np.float32)
    x = ops.parameter([-1, -1, channels], np.float32, name="x")
    mean = ops.reduce_mean(x, _c([axis], np.int64), True)
    diff = ops.subtract(x, mean)
    variance = ops.reduce_mean(ops.multiply(diff, diff), _c([axis], np.int64), True)
    scale = ops.multiply(ops.divide(_c(1.0), ops.sqrt(ops.add(variance, _c(eps)))), _c(gamma))
    shift = ops.add(ops.multiply(ops.multiply(mean, _c(minus_one)), scale), _c(beta))
    out = ops.add(ops.multiply(x, scale), shift)
    return ov.Model([out], [x]), (gamma, beta, eps)


def attention_graph(heads: int, depth: int, bias: float = -1e9, query_order=(0, 2, 3, 1)):
    """keras-hub's masked-softmax attention as tf2onnx + OpenVINO write it."""
    query = ops.parameter([-1, -1, heads, depth], np.float32, name="query")  # [B, T, H, D], scaled
    key = ops.parameter([-1, heads, -1, depth], np.float32, name="key")      # [B, H, T, D]
    value = ops.parameter([-1, heads, -1, depth], np.float32, name="value")
    mask = ops.parameter([-1, 1, 1, -1], np.bool_, name="mask")              # True = real key
    scores = ops.transpose(ops.matmul(key, ops.transpose(query, _c(query_order, np.int64)), False, False),
                           _c([0, 1, 3, 2], np.int64))
    keep, dropped = ops.convert(mask, "f32"), ops.convert(ops.logical_not(mask), "f32")
    probs = ops.softmax(ops.add(ops.multiply(scores, keep), ops.multiply(dropped, _c(np.full((1, 1, 1, 1), bias)))), -1)
    masked = ops.add(ops.multiply(probs, keep), ops.multiply(dropped, _c(np.zeros((1, 1, 1, 1)))))
    out = ops.matmul(masked, value, False, False)
    return ov.Model([out], [query, key, value, mask])


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
    lengths = data.draw(st.lists(st.integers(1, time), min_size=batch, max_size=batch))
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
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    expected = (probs / probs.sum(-1, keepdims=True)) @ value
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(before, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("change", [{"eps": 0.0}, {"axis": 1}, {"minus_one": -2.0}])
def test_layer_norms_that_differ_stay_as_they_are(change):
    model, _ = layer_norm_graph(8, **change)
    before = _types(model)
    assert fuse_transformer_blocks(model) == {"layer_norm": 0, "attention": 0}
    assert _types(model) == before


@pytest.mark.parametrize("change", [{"bias": -1.0}, {"query_order": (0, 2, 1, 3)}])
def test_attention_that_differs_stays_as_it_is(change):
    if "query_order" in change:  # query given as [B, T, D, H]: still a valid graph, another meaning
        model = attention_graph(4, 4, **change)
    else:
        model = attention_graph(4, 8, **change)
    before = _types(model)
    assert fuse_transformer_blocks(model) == {"layer_norm": 0, "attention": 0}
    assert _types(model) == before
