"""Test helper for graphs built op by op with OpenVINO's opset (the IR rewrite and counting tests)."""

import numpy as np
from openvino import opset13 as ops


def constant(value, dtype=np.float32):
    """An opset ``Constant`` of ``value`` as ``dtype`` (float32 unless said)."""
    return ops.constant(np.asarray(value, dtype=dtype))
