"""What the IR rewrites read off an OpenVINO value (an ``openvino.Output``): its constant data,
its rank, its static dims. Shared by :mod:`.graph_fusion` and :mod:`.quantizer_hoisting`.

    >>> import numpy as np
    >>> from openvino import opset13 as ops
    >>> constant_data(ops.constant(np.float32(2.0)).output(0))
    array(2., dtype=float32)
    >>> dims(ops.parameter([-1, 8], np.float32).output(0))
    [None, 8]
"""

from __future__ import annotations

import numpy as np


def constant_data(output) -> np.ndarray | None:
    """The data of ``output`` when a ``Constant`` produces it, else ``None``."""
    node = output.get_node()
    return node.get_data() if node.get_type_name() == "Constant" else None


def rank(output) -> int | None:
    """The rank of ``output``, or ``None`` when it is dynamic."""
    value = output.get_partial_shape().rank
    return value.get_length() if value.is_static else None


def dims(output) -> list | None:
    """Static dims of ``output`` (``None`` for a dynamic one), or ``None`` for a dynamic rank."""
    shape = output.get_partial_shape()
    return [d.get_length() if d.is_static else None for d in shape] if shape.rank.is_static else None
