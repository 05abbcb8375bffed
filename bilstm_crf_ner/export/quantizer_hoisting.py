"""Move INT8 activation quantizers in front of the layout ops that hide them from the CPU plugin.

tf2onnx lowers keras-hub's ``EinsumDense`` projections to ``Unsqueeze -> Reshape -> MatMul``
and the attention output to ``Unsqueeze -> Transpose -> Reshape -> MatMul``. NNCF puts its
activation quantizer (a ``FakeQuantize``, behind SmoothQuant's per-channel ``Multiply``) right
before the ``MatMul``, so it follows the ``Reshape``: the CPU plugin cannot fuse it into the op
that computed the values (a layer norm, the attention) and runs it as a separate f32 pass over
the activations, and the layout ops move f32 instead of int8 data.

:func:`hoist_quantizers` moves ``[Multiply by a constant ->] FakeQuantize`` up through
``Reshape``, ``Squeeze``, ``Unsqueeze`` and ``Transpose`` ops, carrying its constants along (a
transpose permutes them, a reshape must keep the block of trailing axes they vary over). Element-
wise ops commute with layout ops, so the rewrite is exact in real arithmetic; the CPU plugin's
fused kernels may round a few quantization boundaries differently, and the export measures the
INT8 model's agreement with f32 afterwards as before. Where a layout op also feeds something
else, it is kept for that and repeated after the moved quantizer. Anything it cannot carry exactly stays put,
and so do quantizers with per-channel ranges: OpenVINO's CPU plugin (2026.4) runs a per-channel
``FakeQuantize`` correctly only along axis 1, which is the channel axis of the ``[B*T, C]``
matrix the ``Reshape`` makes but not of the ``[B, T, C]`` tensor before it (it computes wrong
values there, or refuses to compile). NNCF's transformer scheme quantizes activations per tensor.

Example (an INT8 IR written by NNCF)::

    import openvino as ov
    model = ov.Core().read_model("ir/model_int8.xml")
    hoist_quantizers(model)      # e.g. 8 for a 4-layer BERT (Q/K/V input, attention output)
"""

from __future__ import annotations

import logging

import numpy as np

from .ir_values import constant_data as _constant
from .ir_values import dims as _dims

logger = logging.getLogger(__name__)

LAYOUT_OPS = ("Reshape", "Squeeze", "Unsqueeze", "Transpose")


def _axes(node) -> list[int] | None:
    axes = _constant(node.input_value(1)) if node.get_input_size() == 2 else None
    return None if axes is None else [int(a) for a in np.asarray(axes).ravel()]


def constant_before(constant: np.ndarray, node) -> np.ndarray | None:
    """``constant`` (element-wise on ``node``'s output) as it must be on ``node``'s input so that
    applying it before ``node`` gives the same values; ``None`` where no such constant exists or
    the shapes are not known well enough to be sure."""
    out, inp = _dims(node.output(0)), _dims(node.input_value(0))
    c = np.asarray(constant)
    if c.size == 1:
        return c.reshape(())
    if out is None or inp is None or c.ndim > len(out):
        return None
    c = c.reshape([1] * (len(out) - c.ndim) + list(c.shape))
    kind = node.get_type_name()
    if kind == "Transpose":
        order = _constant(node.input_value(1))
        if order is None:
            return None
        order = [int(i) for i in order.ravel()] or list(range(len(out)))[::-1]  # empty: reverse the axes
        return np.transpose(c, np.argsort(order))
    # An empty or absent axes input squeezes every size-1 axis: the general rule below covers it.
    axes = (_axes(node) or None) if kind in ("Squeeze", "Unsqueeze") else None
    if axes is not None and kind == "Unsqueeze":
        axes = {a % len(out) for a in axes}
        if all(c.shape[a] == 1 for a in axes):
            return c.reshape([d for i, d in enumerate(c.shape) if i not in axes])
    elif axes is not None:
        shape = list(c.shape)
        for axis in sorted(a % len(inp) for a in axes):
            shape.insert(axis, 1)
        return c.reshape(shape)
    # Any reshape: the constant may vary over the last axis only, and that axis must be made of
    # whole trailing axes of the input.
    if any(d != 1 for d in c.shape[:-1]) or out[-1] is None or c.shape[-1] != out[-1]:
        return None
    size, first = 1, len(inp)
    while size < out[-1] and first > 0 and inp[first - 1] is not None:
        first -= 1
        size *= inp[first]
    return c.reshape([1] * first + inp[first:]) if size == out[-1] else None


def _rebuilt(node, value):
    """``node`` applied to ``value`` instead of its data input (named after it: the original
    stays where it has other consumers)."""
    from openvino import opset15 as ops

    kind, rest = node.get_type_name(), [node.input_value(i) for i in range(1, node.get_input_size())]
    if kind == "Reshape":
        rebuilt = ops.reshape(value, rest[0], node.get_special_zero())
    elif kind == "Transpose":
        rebuilt = ops.transpose(value, rest[0])
    elif kind == "Unsqueeze":
        rebuilt = ops.unsqueeze(value, rest[0])
    else:
        rebuilt = ops.squeeze(value, rest[0] if rest else None)
    rebuilt.set_friendly_name(f"{node.get_friendly_name()}/after_quantizer")
    return rebuilt.output(0)


def _same_shape(a, b) -> bool:
    return a.get_partial_shape().same_scheme(b.get_partial_shape())


def _hoisting_pass(counter: list):
    from openvino import opset13 as ops
    from openvino.passes import AnyInput, Matcher, MatcherPass, WrapType

    root = WrapType("opset13.FakeQuantize", [AnyInput()] + [WrapType("opset13.Constant") for _ in range(4)])

    def move(quantizer) -> bool:
        value, scale = quantizer.input_value(0), None
        if not _same_shape(value, quantizer.output(0)):
            return False
        if value.get_node().get_type_name() == "Multiply":
            multiply = value.get_node()
            inputs = list(multiply.input_values())
            constants = [i for i, v in enumerate(inputs) if _constant(v) is not None]
            if len(constants) != 1 or len(value.get_target_inputs()) != 1:
                return False
            scale = inputs[constants[0]]
            value = inputs[1 - constants[0]]
            if not _same_shape(value, multiply.output(0)):
                return False
        constants = ([scale] if scale is not None else []) + [quantizer.input_value(i) for i in range(1, 5)]
        arrays = [_constant(c) for c in constants]
        if any(a.size != 1 for a in arrays[-4:]):
            return False
        chain = []
        while value.get_node().get_type_name() in LAYOUT_OPS:
            moved = [constant_before(a, value.get_node()) for a in arrays]
            if any(a is None for a in moved):
                break
            chain.append(value.get_node())
            arrays, value = moved, value.get_node().input_value(0)
        if not chain:
            return False
        new = [ops.constant(a.astype(c.get_element_type().to_dtype())).output(0) for a, c in zip(arrays, constants)]
        if scale is not None:
            value = ops.multiply(value, new.pop(0)).output(0)
        moved = ops.fake_quantize(value, *new, quantizer.get_levels(), quantizer.get_attributes()["auto_broadcast"])
        moved.set_friendly_name(quantizer.get_friendly_name())
        value = moved.output(0)
        for node in reversed(chain):
            value = _rebuilt(node, value)
        quantizer.output(0).replace(value)
        counter.append(quantizer.get_friendly_name())
        return True

    def rewrite(matcher) -> bool:
        quantizer = matcher.get_match_root()
        try:
            return move(quantizer)
        except Exception as exc:  # an optimisation must not fail an export: this quantizer stays
            logger.warning("export: INT8 quantizer %s left where NNCF put it (%s: %s)",
                           quantizer.get_friendly_name(), type(exc).__name__, exc)
            return False

    return MatcherPass(Matcher(root, "QuantizerBeforeLayoutOps"), rewrite)


def hoist_quantizers(model) -> int:
    """Rewrite ``model`` (an ``openvino.Model`` with ``FakeQuantize`` ops) in place; returns how
    many quantizers moved in front of layout ops."""
    from openvino.passes import Manager

    moved: list = []
    manager = Manager()
    manager.register_pass(_hoisting_pass(moved))
    manager.run_passes(model)
    model.validate_nodes_and_infer_types()
    if moved:
        logger.info("export: moved %d INT8 activation quantizers in front of reshapes and transposes", len(moved))
    return len(moved)
