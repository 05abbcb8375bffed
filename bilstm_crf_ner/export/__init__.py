"""Export to ONNX and OpenVINO IR (needs the ``export`` extra: tf2onnx, onnx, openvino, onnxruntime)."""

from .exporter import choose_default, export_model
from .onnx_export import ExportError

__all__ = ["ExportError", "choose_default", "export_model"]
