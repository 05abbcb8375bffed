"""TensorFlow-free runtime for exported models: ``Tagger.load("ir/")``.

Imports only numpy and, when a model is loaded, openvino or onnxruntime.
"""

from .backends import BACKENDS, PRECISIONS, BackendError
from .tagger import Tagger

__all__ = ["BACKENDS", "PRECISIONS", "BackendError", "Tagger"]
