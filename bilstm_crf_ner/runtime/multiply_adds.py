"""The multiply-adds an OpenVINO model does on one input: the work a compute bound is built from.

Counts the ops that do nearly all of a tagger's arithmetic: matrix products (``MatMul``), fused
attention (``ScaledDotProductAttention``), recurrent layers (``LSTMSequence``, ``GRUSequence``,
``RNNSequence``) and convolutions. Element-wise ops, reductions and normalisations are left out
(a few operations per element, not per weight); op types that do products this module does not
know (``Einsum``, single-step cells, the bodies of ``Loop`` / ``TensorIterator`` / ``If``) are
listed as ``uncounted`` so a total is never silently short.

Shapes are read from a run on the input, not inferred: an exported tagger cuts its BiLSTM to the
batch's longest sentence, a length only the data gives.

    >>> import numpy as np, openvino as ov
    >>> from openvino import opset13 as ops
    >>> x = ops.parameter([-1, -1, 8], np.float32)
    >>> y = ops.matmul(x, ops.constant(np.ones((8, 4), np.float32)), False, False)
    >>> multiply_adds(ov.Model([y], [x]), np.zeros((2, 5, 8), np.float32))["total"]
    320

Imports no TensorFlow (an exported folder's IR is enough).
"""

from __future__ import annotations

from collections import Counter
from math import prod

import numpy as np

#: Op types that multiply matrices but are not counted here.
UNCOUNTED_PRODUCTS = ("Einsum", "DeformableConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData",
                      "MultiHeadAttention", "PagedAttentionExtension", "LSTMCell", "GRUCell", "RNNCell",
                      # sub-graphs whose bodies are not visited
                      "Loop", "TensorIterator", "If")


def _matmul(op, shape) -> int:
    a = shape(op.input_value(0))
    inner = a[0] if len(a) == 1 else (a[-2] if op.get_attributes()["transpose_a"] else a[-1])
    return prod(shape(op.output(0))) * inner


def _attention(op, shape) -> int:
    query, key, out = shape(op.input_value(0)), shape(op.input_value(1)), shape(op.output(0))
    return prod(out[:-2]) * query[-2] * key[-2] * query[-1] + prod(out) * key[-2]


def _recurrent(weights: int):
    """Counter for a sequence op whose input and recurrent weights are inputs ``weights`` and
    ``weights + 1`` (LSTM: X, H0, C0, lengths, W, R; GRU and RNN: X, H0, lengths, W, R)."""
    def count(op, shape) -> int:
        batch, steps = shape(op.input_value(0))[:2]
        return batch * steps * (prod(shape(op.input_value(weights))) + prod(shape(op.input_value(weights + 1))))
    return count


def _convolution(first_kernel_axis: int):
    return lambda op, shape: prod(shape(op.output(0))) * prod(shape(op.input_value(1))[first_kernel_axis:])


_COUNTERS = {
    "MatMul": _matmul,
    "ScaledDotProductAttention": _attention,
    "LSTMSequence": _recurrent(4),
    "GRUSequence": _recurrent(3),
    "RNNSequence": _recurrent(3),
    "Convolution": _convolution(1),
    "GroupConvolution": _convolution(2),
}


def multiply_adds(model, inputs: np.ndarray) -> dict:
    """Multiply-adds of one run of ``model`` (an ``openvino.Model`` with one input) on ``inputs``:
    ``{"total", "by_op_type": {type: count}, "uncounted": [types]}``.

    Runs a copy of the model once (f32, CPU) with the shape of every counted op's inputs and
    outputs as extra outputs; ``model`` itself is not changed.
    """
    import openvino as ov
    from openvino import opset13 as ops

    if len(model.inputs) != 1:
        raise ValueError(f"multiply_adds takes a model with one input, not {len(model.inputs)}")
    probe = model.clone()
    counted, uncounted, probes = [], set(), {}
    for op in probe.get_ordered_ops():
        kind = op.get_type_name()
        if kind in UNCOUNTED_PRODUCTS:
            uncounted.add(kind)
        if kind in _COUNTERS:
            counted.append(op)
            for value in [*op.input_values(), *op.outputs()]:
                probes.setdefault(value, ops.result(ops.shape_of(value, "i64")))
    first = len(probe.outputs)
    probe.add_results(list(probes.values()))
    request = ov.Core().compile_model(probe, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
    request.infer({0: inputs})
    shapes = {value: [int(d) for d in request.get_output_tensor(first + i).data]
              for i, value in enumerate(probes)}
    by_type: Counter = Counter()
    for op in counted:
        by_type[op.get_type_name()] += _COUNTERS[op.get_type_name()](op, shapes.__getitem__)
    return {"total": int(sum(by_type.values())), "by_op_type": dict(by_type), "uncounted": sorted(uncounted)}
