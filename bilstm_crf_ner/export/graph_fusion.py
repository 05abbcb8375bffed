"""Rewrites of the OpenVINO IR that give the CPU plugin its fused transformer kernels back.

tf2onnx lowers Keras' ``LayerNormalization`` to TensorFlow's moments arithmetic
(``x * scale + (beta - mean * scale)`` with ``scale = gamma / sqrt(var + eps)``) and keras-hub's
masked-softmax attention to ``Select`` arithmetic around a ``Transpose``. OpenVINO's own fusions
recognise neither form, so each layer norm runs as a dozen element-wise ops and each attention
block as separate matrix products, transposes, mask arithmetic and softmax. These passes put
back ``MVN`` (then ``* gamma + beta``) and ``ScaledDotProductAttention``:

- the layer-norm rewrite is exact in real arithmetic;
- the attention rewrite adds the mask bias (``-1e9`` on padded keys) to the scores instead of
  first zeroing them, and leaves the masked probabilities to the softmax instead of zeroing them
  again: identical up to rounding, except for query rows whose keys are all padding (whole
  padded sentences), whose outputs are discarded anyway.

Both are matched with OpenVINO's pattern matcher and check every constant they rely on (axes,
epsilon, the mask's sign and size, transpose orders); a block that differs in any way is left
as it is. The export's parity check then compares the rewritten graph with Keras. Graphs without
these blocks (the character BiLSTM-CRF models) are unchanged.

Example (an exported IR; counts depend on the encoder)::

    import openvino as ov
    model = ov.Core().read_model("ir/model.xml")
    fuse_transformer_blocks(model)      # e.g. {"layer_norm": 9, "attention": 4}
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

#: An additive mask at least this negative makes ``exp`` underflow to exactly 0 in float32
#: (scores are far smaller), so adding it equals zeroing first and then adding it.
MASK_BIAS_MAX = -1e4


def _constant(output) -> np.ndarray | None:
    node = output.get_node()
    return node.get_data() if node.get_type_name() == "Constant" else None


def _is_scalar(output, value: float | None = None, rtol: float = 0.0) -> bool:
    data = _constant(output)
    if data is None or data.size != 1:
        return False
    return value is None or bool(np.isclose(float(data.ravel()[0]), value, rtol=rtol, atol=0.0))


def _same(a, b) -> bool:
    return a.get_node().get_name() == b.get_node().get_name() and a.get_index() == b.get_index()


def _last_axis(output, data_output) -> bool:
    axes = _constant(output)
    rank = data_output.get_partial_shape().rank
    if axes is None or axes.size != 1 or not rank.is_static:
        return False
    return int(axes.ravel()[0]) in (-1, rank.get_length() - 1)


def _transpose_order(output) -> tuple | None:
    node = output.get_node()
    if node.get_type_name() != "Transpose":
        return None
    order = _constant(node.input_value(1))
    return None if order is None else tuple(int(i) for i in order.ravel())


def _layer_norm_pass():
    from openvino import opset13 as ops
    from openvino.passes import AnyInput, Matcher, MatcherPass, WrapType

    const = lambda: WrapType("opset13.Constant")  # noqa: E731
    x = AnyInput()
    mean = WrapType("opset13.ReduceMean", [x, const()])
    diff = WrapType("opset13.Subtract", [AnyInput(), mean])
    square = WrapType("opset13.Multiply", [diff, diff])
    variance = WrapType("opset13.ReduceMean", [square, const()])
    eps = const()
    inverse = WrapType("opset13.Divide", [const(), WrapType("opset13.Sqrt", [WrapType("opset13.Add", [variance, eps])])])
    gamma = const()
    scale = WrapType("opset13.Multiply", [inverse, gamma])
    minus_one = const()
    beta = const()
    shift = WrapType("opset13.Add", [WrapType("opset13.Multiply", [WrapType("opset13.Multiply", [mean, minus_one]), scale]),
                                     beta])
    scaled_x = WrapType("opset13.Multiply", [AnyInput(), scale])
    root = WrapType("opset13.Add", [scaled_x, shift])

    def rewrite(matcher) -> bool:
        found = matcher.get_pattern_value_map()
        source = found[x]
        mean_node, diff_node, scaled_node = found[mean].get_node(), found[diff].get_node(), found[scaled_x].get_node()
        var_node = found[variance].get_node()
        inverse_node = found[inverse].get_node()
        if not (_same(diff_node.input_value(0), source) and _same(diff_node.input_value(1), found[mean])
                and all(_same(value, found[diff]) for value in found[square].get_node().input_values())
                and any(_same(value, source) for value in scaled_node.input_values())
                and mean_node.get_keep_dims() and var_node.get_keep_dims()
                and _last_axis(mean_node.input_value(1), source) and _last_axis(var_node.input_value(1), source)
                and _is_scalar(inverse_node.input_value(0), 1.0) and _is_scalar(found[minus_one], -1.0)
                and _is_scalar(found[eps]) and float(_constant(found[eps]).ravel()[0]) > 0):
            return False
        epsilon = float(_constant(found[eps]).ravel()[0])
        normalized = ops.mvn(source, ops.constant(np.array([-1], dtype=np.int64)), True, epsilon, "inside_sqrt")
        out = ops.add(ops.multiply(normalized, found[gamma]), found[beta])
        out.set_friendly_name(matcher.get_match_root().get_friendly_name())
        matcher.get_match_root().output(0).replace(out.output(0))
        return True

    return MatcherPass(Matcher(root, "LayerNormFromMoments"), rewrite)


def _attention_pass():
    from openvino import Type, opset13 as ops
    from openvino.passes import AnyInput, Matcher, MatcherPass, WrapType

    const = lambda: WrapType("opset13.Constant")  # noqa: E731
    key, query, value = AnyInput(), AnyInput(), AnyInput()
    query_t = WrapType("opset13.Transpose", [query, const()])
    scores = WrapType("opset13.Transpose", [WrapType("opset13.MatMul", [key, query_t]), const()])
    keep = WrapType("opset13.Convert", [AnyInput()])
    dropped = WrapType("opset13.Convert", [WrapType("opset13.LogicalNot", [AnyInput()])])
    bias_value = const()
    bias = WrapType("opset13.Multiply", [dropped, bias_value])
    probs = WrapType("opset13.Softmax", [WrapType("opset13.Add", [WrapType("opset13.Multiply", [scores, keep]), bias])])
    keep_after = WrapType("opset13.Convert", [AnyInput()])
    zero = const()
    dropped_after_mask = WrapType("opset13.Convert", [WrapType("opset13.LogicalNot", [AnyInput()])])
    dropped_after = WrapType("opset13.Multiply", [dropped_after_mask, zero])
    masked = WrapType("opset13.Add", [WrapType("opset13.Multiply", [probs, keep_after]), dropped_after])
    root = WrapType("opset13.MatMul", [masked, value])

    def mask_source(output):  # Convert(mask) or Convert(LogicalNot(mask)) -> mask
        node = output.get_node().input_value(0).get_node()
        return node.input_value(0) if node.get_type_name() == "LogicalNot" else output.get_node().input_value(0)

    def rewrite(matcher) -> bool:
        found = matcher.get_pattern_value_map()
        matmuls = (found[scores].get_node().input_value(0).get_node(), matcher.get_match_root())
        softmax = found[probs].get_node()
        masks = [mask_source(found[n]) for n in (keep, keep_after)]
        masks += [mask_source(found[dropped]), mask_source(found[dropped_after_mask])]
        rank = found[query].get_partial_shape().rank
        if not (rank.is_static and rank.get_length() == 4
                and _transpose_order(found[query_t]) == (0, 2, 3, 1) and _transpose_order(found[scores]) == (0, 1, 3, 2)
                and not any(m.get_transpose_a() or m.get_transpose_b() for m in matmuls)
                and softmax.get_axis() in (-1, 3)
                and all(_same(m, masks[0]) for m in masks[1:])
                and _is_scalar(found[zero], 0.0) and _is_scalar(found[bias_value])
                and float(_constant(found[bias_value]).ravel()[0]) <= MASK_BIAS_MAX):
            return False
        query_4d = ops.transpose(found[query], ops.constant(np.array([0, 2, 1, 3], dtype=np.int64)))
        mask = found[bias]
        if mask.get_element_type() != found[query].get_element_type():
            mask = ops.convert(mask, found[query].get_element_type()).output(0)
        one = ops.constant(np.array(1.0, dtype=np.float32))
        if found[query].get_element_type() != Type.f32:
            one = ops.convert(one, found[query].get_element_type())
        fused = ops.scaled_dot_product_attention(query_4d, found[key], found[value], mask, one, causal=False)
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
