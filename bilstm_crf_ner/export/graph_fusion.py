"""Rewrites of the OpenVINO IR that give the CPU plugin its fused transformer kernels back.

tf2onnx lowers Keras' ``LayerNormalization`` to TensorFlow's moments arithmetic
(``x * scale + (beta - mean * scale)`` with ``scale = gamma / sqrt(var + eps)``) and keras-hub's
masked softmax to arithmetic on the mask (``scores * keep + dropped * -1e9``, softmax, then
``probs * keep + dropped * 0``, with ``keep`` and ``dropped`` the boolean mask and its negation
as floats), with the scores behind a ``Transpose``. OpenVINO's own fusions
recognise neither form, so each layer norm runs as a dozen element-wise ops and each attention
block as separate matrix products, transposes, mask arithmetic and softmax. These passes put
back ``MVN`` (then ``* gamma + beta``) and ``ScaledDotProductAttention``:

- the layer-norm rewrite is exact in real arithmetic;
- the attention rewrite adds the mask bias (``-1e9`` on padded keys) to the scores instead of
  first zeroing them, and leaves the masked probabilities to the softmax instead of zeroing them
  again: identical up to rounding, except for query rows whose keys are all padding (whole
  padded sentences), whose outputs are discarded anyway.

Both are matched with OpenVINO's pattern matcher and check what makes them exact: that values
used twice are the same value, every constant they rely on (reduction axes, epsilon, the mask's
sign and size, transpose orders), ranks, and that the mask is boolean; a block that differs in
any way is left as it is. The export's parity check then compares the rewritten graph with
Keras. Graphs without these blocks (the character BiLSTM-CRF models) are unchanged.

Example (an exported IR; counts depend on the encoder)::

    import openvino as ov
    model = ov.Core().read_model("ir/model.xml")
    fuse_transformer_blocks(model)      # e.g. {"layer_norm": 9, "attention": 4}
"""

from __future__ import annotations

import logging

import numpy as np

from .ir_values import constant_data as _constant
from .ir_values import rank as _rank

logger = logging.getLogger(__name__)

#: An additive mask at least this negative makes ``exp`` underflow to exactly 0 in float32
#: (scores are far smaller), so adding it equals zeroing first and then adding it.
MASK_BIAS_MAX = -1e4


def _scalar(output, rank: int | None) -> float | None:
    """The value of a one-element constant that broadcasts into a tensor of ``rank`` without
    raising its rank, else ``None``."""
    data = _constant(output)
    if data is None or data.size != 1 or rank is None or data.ndim > rank:
        return None
    return float(data.ravel()[0])


def _same(a, b) -> bool:
    return a.get_node().get_name() == b.get_node().get_name() and a.get_index() == b.get_index()


def _reduces_last_axis(node) -> bool:
    """A ``ReduceMean`` over the last axis of its input that keeps that axis (as size 1)."""
    axes, rank = _constant(node.input_value(1)), _rank(node.input_value(0))
    return (axes is not None and axes.size == 1 and rank is not None and node.get_keep_dims()
            and int(axes.ravel()[0]) in (-1, rank - 1))


def _transpose_order(output) -> tuple | None:
    node = output.get_node()
    if node.get_type_name() != "Transpose":
        return None
    order = _constant(node.input_value(1))
    return None if order is None else tuple(int(i) for i in order.ravel())


def _constant_pattern():
    from openvino.passes import WrapType

    return WrapType("opset13.Constant")


def _layer_norm_pass():
    from openvino import opset13 as ops
    from openvino.passes import AnyInput, Matcher, MatcherPass, WrapType

    # ``x`` is an AnyInput, which the matcher holds to one value everywhere it appears; values
    # used twice otherwise (the mean, the scale, the difference) are checked in ``epsilon_if_exact``.
    x = AnyInput()
    mean = WrapType("opset13.ReduceMean", [x, _constant_pattern()])
    diff = WrapType("opset13.Subtract", [x, mean])
    square = WrapType("opset13.Multiply", [diff, diff])
    variance = WrapType("opset13.ReduceMean", [square, _constant_pattern()])
    one, eps, gamma, minus_one, beta = (_constant_pattern() for _ in range(5))
    inverse = WrapType("opset13.Divide", [one, WrapType("opset13.Sqrt", [WrapType("opset13.Add", [variance, eps])])])
    scale = WrapType("opset13.Multiply", [inverse, gamma])
    # Second copies, so that operand order cannot swap the mean's and the scale's places.
    mean_again = WrapType("opset13.ReduceMean", [x, _constant_pattern()])
    scale_again = WrapType("opset13.Multiply", [AnyInput(), _constant_pattern()])
    shift = WrapType("opset13.Add", [WrapType("opset13.Multiply", [WrapType("opset13.Multiply", [mean_again, minus_one]),
                                                                   scale_again]), beta])
    root = WrapType("opset13.Add", [WrapType("opset13.Multiply", [x, scale]), shift])

    def epsilon_if_exact(found) -> float | None:
        rank = _rank(found[x])
        epsilon = _scalar(found[eps], rank)
        exact = (_same(found[mean_again], found[mean]) and _same(found[scale_again], found[scale])
                 and all(_same(value, found[diff]) for value in found[square].get_node().input_values())
                 and _reduces_last_axis(found[mean].get_node()) and _reduces_last_axis(found[variance].get_node())
                 and _scalar(found[one], rank) == 1.0 and _scalar(found[minus_one], rank) == -1.0
                 and epsilon is not None and epsilon > 0)
        return epsilon if exact else None

    def rewrite(matcher) -> bool:
        found = matcher.get_pattern_value_map()
        epsilon = epsilon_if_exact(found)
        if epsilon is None:
            return False
        normalized = ops.mvn(found[x], ops.constant(np.array([-1], dtype=np.int64)), True, epsilon, "inside_sqrt")
        out = ops.add(ops.multiply(normalized, found[gamma]), found[beta])
        out.set_friendly_name(matcher.get_match_root().get_friendly_name())
        matcher.get_match_root().output(0).replace(out.output(0))
        return True

    return MatcherPass(Matcher(root, "LayerNormFromMoments"), rewrite)


def _attention_pass():
    from openvino import Type, opset13 as ops
    from openvino.passes import AnyInput, Matcher, MatcherPass, WrapType

    key, query, value, mask = AnyInput(), AnyInput(), AnyInput(), AnyInput()  # mask: one value throughout
    query_t = WrapType("opset13.Transpose", [query, _constant_pattern()])
    scores = WrapType("opset13.Transpose", [WrapType("opset13.MatMul", [key, query_t]), _constant_pattern()])
    keep = WrapType("opset13.Convert", [mask])
    dropped = WrapType("opset13.Convert", [WrapType("opset13.LogicalNot", [mask])])
    bias_value, zero = _constant_pattern(), _constant_pattern()
    bias = WrapType("opset13.Multiply", [dropped, bias_value])
    probs = WrapType("opset13.Softmax", [WrapType("opset13.Add", [WrapType("opset13.Multiply", [scores, keep]), bias])])
    keep_after = WrapType("opset13.Convert", [mask])
    dropped_after = WrapType("opset13.Multiply", [WrapType("opset13.Convert", [WrapType("opset13.LogicalNot", [mask])]),
                                                 zero])
    masked = WrapType("opset13.Add", [WrapType("opset13.Multiply", [probs, keep_after]), dropped_after])
    root = WrapType("opset13.MatMul", [masked, value])

    def exact(found, root_node) -> bool:
        matmuls = (found[scores].get_node().input_value(0).get_node(), root_node)
        rank = _rank(found[scores])
        bias_scalar = _scalar(found[bias_value], rank)
        return (all(_rank(found[n]) == 4 for n in (query, key, value)) and rank == 4
                and found[mask].get_element_type() == Type.boolean
                and _transpose_order(found[query_t]) == (0, 2, 3, 1) and _transpose_order(found[scores]) == (0, 1, 3, 2)
                and not any(m.get_transpose_a() or m.get_transpose_b() for m in matmuls)
                and found[probs].get_node().get_axis() in (-1, 3)
                and _scalar(found[zero], rank) == 0.0 and bias_scalar is not None and bias_scalar <= MASK_BIAS_MAX)

    def rewrite(matcher) -> bool:
        found = matcher.get_pattern_value_map()
        if not exact(found, matcher.get_match_root()):
            return False
        dtype = found[query].get_element_type()
        query_4d = ops.transpose(found[query], ops.constant(np.array([0, 2, 1, 3], dtype=np.int64)))
        additive_mask, one = (tensor if tensor.get_element_type() == dtype else ops.convert(tensor, dtype).output(0)
                              for tensor in (found[bias], ops.constant(np.array(1.0, dtype=np.float32)).output(0)))
        fused = ops.scaled_dot_product_attention(query_4d, found[key], found[value], additive_mask, one, causal=False)
        fused.set_friendly_name(matcher.get_match_root().get_friendly_name())
        matcher.get_match_root().output(0).replace(fused.output(0))
        return True

    return MatcherPass(Matcher(root, "MaskedSoftmaxAttention"), rewrite)


def _count(model) -> dict:
    types = [op.get_type_name() for op in model.get_ordered_ops()]
    return {"layer_norm": types.count("MVN"), "attention": types.count("ScaledDotProductAttention")}


def fuse_transformer_blocks(model) -> dict:
    """Rewrite ``model`` (an ``openvino.Model``) in place; returns how many layer norms and
    attention blocks it now runs as ``MVN`` and ``ScaledDotProductAttention``."""
    from openvino.passes import Manager

    before = _count(model)
    manager = Manager()
    manager.register_pass(_layer_norm_pass())
    manager.register_pass(_attention_pass())
    manager.run_passes(model)
    model.validate_nodes_and_infer_types()
    fused = {name: count - before[name] for name, count in _count(model).items()}
    if any(fused.values()):
        logger.info("export: fused %d layer norms into MVN and %d attention blocks into ScaledDotProductAttention",
                    fused["layer_norm"], fused["attention"])
    return fused
