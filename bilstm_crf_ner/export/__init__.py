"""Export to ONNX and OpenVINO IR (needs the ``export`` extra: tf2onnx, onnx, openvino, onnxruntime)."""

from .exporter import export_model
from .onnx_export import ExportError

__all__ = ["ExportError", "export_model"]
