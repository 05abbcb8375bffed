"""The activations of Hugging Face encoder configs, written for a clean ONNX export."""

from __future__ import annotations

import keras


def exact_gelu(x):
    """GELU with erf (Hugging Face's "gelu"), written with ``erf``: TensorFlow's own exact GELU
    uses ``erfc``, which has no ONNX operator."""
    return 0.5 * x * (1.0 + keras.ops.erf(x * 0.7071067811865476))


def tanh_gelu(x):
    """GELU with the tanh approximation (Hugging Face's "gelu_new" and its aliases)."""
    return keras.activations.gelu(x, approximate=True)


#: Activations by their Hugging Face ``hidden_act`` name.
ACTIVATIONS = {"gelu": exact_gelu, "gelu_new": tanh_gelu, "gelu_pytorch_tanh": tanh_gelu, "gelu_fast": tanh_gelu}
