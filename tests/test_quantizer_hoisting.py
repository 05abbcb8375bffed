"""INT8 activation quantizers moved in front of layout ops: on graphs built like NNCF's output for
tf2onnx's lowering of keras-hub's projections, the moved quantizer sits where it should and the
graph computes what it did (f32, against the graph before); what cannot be carried exactly stays
put. (A real INT8 export: tests/test_transformers.py.)"""

import numpy as np
import openvino as ov
import pytest
from openvino import opset13 as ops

from bilstm_crf_ner.export.quantizer_hoisting import hoist_quantizers
from ir_support import constant as _c


def quantized_product(x, layout, scale_shape, range_shape=(), share_multiply=False, seed=0):
    """``layout(x) * scale -> FakeQuantize -> MatMul(w)``, as NNCF writes SmoothQuant and an
    activation quantizer; the model's outputs are the product (and the scaled values when
    ``share_multiply``, a second consumer of the ``Multiply``)."""
    rng = np.random.default_rng(seed)
    laid_out = layout(x)
    channels = laid_out.get_output_partial_shape(0)[-1].get_length()
    scaled = ops.multiply(laid_out, _c(rng.uniform(0.5, 2.0, size=scale_shape)))
    low = -rng.uniform(1.5, 2.5, size=range_shape)
    high = rng.uniform(1.5, 2.5, size=range_shape)
    quantized = ops.fake_quantize(scaled, _c(low), _c(high), _c(low), _c(high), 256)
    product = ops.matmul(quantized, _c(rng.normal(size=(channels, 5))), False, False)
    return ov.Model([product, scaled] if share_multiply else [product], [x])


def einsum_input(x):  # [B, T, C] -> [B, T, 1, 1, C] -> [B*T, C]
    return ops.reshape(ops.unsqueeze(x, _c([2, 3], np.int64)), _c([-1, 8], np.int64), False)


def attention_output(x):  # [B, H, T, D] -> [B, 1, H, T, D] -> [B, T, 1, H, D] -> [B*T, H*D]
    moved = ops.transpose(ops.unsqueeze(x, _c([1], np.int64)), _c([0, 3, 1, 2, 4], np.int64))
    return ops.reshape(moved, _c([-1, 12], np.int64), False)


def run(model, data):
    request = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
    return [out.copy() for out in request.infer({0: data}).values()]


def quantizers(model):
    return [op for op in model.get_ordered_ops() if op.get_type_name() == "FakeQuantize"]


@pytest.mark.parametrize("case", ["einsum", "attention_output", "squeeze"])
def test_quantizer_moves_to_the_producer_and_the_graph_computes_the_same(case):
    rng = np.random.default_rng(1)
    if case == "einsum":
        x, layout, scale, data = ops.parameter([-1, -1, 8], np.float32), einsum_input, (1, 8), rng.normal(size=(3, 7, 8))
    elif case == "attention_output":
        x, layout, scale, data = ops.parameter([-1, 3, -1, 4], np.float32), attention_output, (1, 12), rng.normal(size=(2, 3, 6, 4))
    else:  # [B, T, 1, C] -> [B, T, C]
        x, scale, data = ops.parameter([-1, -1, 1, 8], np.float32), (1, 1, 8), rng.normal(size=(2, 5, 1, 8))
        layout = lambda value: ops.squeeze(value, _c([2], np.int64))  # noqa: E731
    data = (data * 2).astype(np.float32)
    model = quantized_product(x, layout, scale)  # per-channel SmoothQuant scale, per-tensor ranges
    before = run(model, data)
    assert hoist_quantizers(model) == 1
    (quantizer,) = quantizers(model)
    multiply = quantizer.input_value(0).get_node()
    assert multiply.get_type_name() == "Multiply" and multiply.input_value(0).get_node().get_type_name() == "Parameter"
    np.testing.assert_allclose(run(model, data)[0], before[0], rtol=1e-6, atol=1e-5)
    assert hoist_quantizers(model) == 0  # nothing left to move


@pytest.mark.parametrize("layout", ["squeeze_empty_axes", "squeeze_no_axes", "transpose_empty_order", "negative_axes"])
def test_layout_ops_in_their_less_common_forms(layout):
    """Empty or absent axes (squeeze every size-1 axis), an empty order (reverse the axes),
    negative axes: the quantizer moves and the values stay, or it stays; never wrong, never a crash."""
    from openvino import opset15

    rng = np.random.default_rng(3)
    if layout == "squeeze_empty_axes":  # [3, 8, 1] -> [3, 8]
        x, data, scale = ops.parameter([3, 8, 1], np.float32), rng.normal(size=(3, 8, 1)), (1, 8)
        move = lambda v: ops.squeeze(v, _c([], np.int64))  # noqa: E731
    elif layout == "squeeze_no_axes":
        x, data, scale = ops.parameter([3, 8, 1], np.float32), rng.normal(size=(3, 8, 1)), (1, 8)
        move = lambda v: opset15.squeeze(v)  # noqa: E731
    elif layout == "transpose_empty_order":  # [4, 2, 3] -> [3, 2, 4], scale over the last axis (was the first)
        x, data, scale = ops.parameter([4, 2, 3], np.float32), rng.normal(size=(4, 2, 3)), (1, 1, 4)
        move = lambda v: ops.transpose(v, _c([], np.int64))  # noqa: E731
    else:  # [B, 1, T, C] -> Squeeze(-3) -> [B, T, C] -> Unsqueeze(-2) -> [B, T, 1, C]
        x, data, scale = ops.parameter([-1, 1, -1, 8], np.float32), rng.normal(size=(2, 1, 5, 8)), (1, 1, 1, 8)
        move = lambda v: ops.unsqueeze(ops.squeeze(v, _c([-3], np.int64)), _c([-2], np.int64))  # noqa: E731
    data = (data * 2).astype(np.float32)
    model = quantized_product(x, move, scale)
    before = run(model, data)
    assert hoist_quantizers(model) == 1
    after = run(model, data)
    assert after[0].shape == before[0].shape
    np.testing.assert_allclose(after[0], before[0], rtol=1e-6, atol=1e-5)


def test_a_quantizer_that_cannot_be_carried_exactly_stays():
    data = np.random.default_rng(2).normal(size=(2, 4, 8)).astype(np.float32)
    # The reshape merges the axis a per-row constant varies over: no constant before it does the same.
    rows = quantized_product(ops.parameter([2, 4, 8], np.float32), lambda x: ops.reshape(x, _c([8, 8], np.int64), False),
                             (8, 1))
    # The last axis is cut into other blocks (8 -> 4): a per-channel scale would not line up.
    split = quantized_product(ops.parameter([2, 4, 8], np.float32), lambda x: ops.reshape(x, _c([16, 4], np.int64), False),
                              (1, 4))
    # SmoothQuant's Multiply also feeds something else: moving it would compute it twice.
    shared = quantized_product(ops.parameter([-1, -1, 8], np.float32), einsum_input, (1, 8), share_multiply=True)
    # Per-channel ranges: OpenVINO's CPU plugin runs those right on axis 1 only (the [B*T, C] matrix).
    per_channel = quantized_product(ops.parameter([-1, -1, 8], np.float32), einsum_input, (1, 8), range_shape=(1, 8))
    for model in (rows, split, shared, per_channel):
        before = run(model, data)
        assert hoist_quantizers(model) == 0
        assert quantizers(model)[0].input_value(0).get_node().input_value(0).get_node().get_type_name() == "Reshape"
        np.testing.assert_array_equal(run(model, data)[0], before[0])


def test_a_quantizer_without_layout_ops_before_it_is_left_alone():
    x = ops.parameter([-1, 8], np.float32)
    model = quantized_product(x, lambda value: ops.relu(value), (1, 8))
    assert hoist_quantizers(model) == 0
