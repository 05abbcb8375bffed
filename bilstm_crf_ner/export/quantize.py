"""INT8 post-training quantization of an exported IR with NNCF, calibrated on the user's text.

The matrix products of the encoder (BERT) are quantized, with NNCF's transformer scheme.
Kept in float: the emission
projection (the last ``MatMul`` before the output: its scores feed the CRF directly, so it
decides the tags) and the ``LSTMSequence`` ops: OpenVINO's CPU plugin refuses an LSTM with
quantized weights unless its input and initial state are quantized too, and its int8 LSTM then
changed 11-35% of a character model's best tags (docs/benchmarks.md, "OpenVINO's int8 LSTM").
NNCF's activation quantizers are then moved in front of the reshapes and transposes that tf2onnx puts before
the matrix products (:mod:`.quantizer_hoisting`), where the CPU plugin fuses them. A character
BiLSTM-CRF therefore gains little from INT8; BERT models gain the most. Quantization works on the OpenVINO model read from
the IR (the graph the runtime runs), not on the ONNX file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from .onnx_export import ExportError
from .quantizer_hoisting import hoist_quantizers

logger = logging.getLogger(__name__)


def emission_projection(model) -> list[str]:
    """Friendly names of the ``MatMul`` ops nearest to the output (walking back from it)."""
    names, seen = [], set()
    frontier = [result.input_value(0).get_node() for result in model.get_results()]
    while frontier:
        node = frontier.pop()
        if node.get_friendly_name() in seen:
            continue
        seen.add(node.get_friendly_name())
        if node.get_type_name() == "MatMul":
            names.append(node.get_friendly_name())
            continue
        if node.get_type_name() in ("Parameter", "LSTMSequence", "Constant"):
            continue
        frontier.extend(value.get_node() for value in node.input_values())
    return names


def nncf_quantize(model, calibration: Sequence[np.ndarray]):
    """NNCF's INT8 copy of ``model`` (an ``openvino.Model``), calibrated on the padded id batches
    ``calibration``, before :func:`.quantizer_hoisting.hoist_quantizers`; returns it and what
    was kept in float."""
    try:
        import nncf
    except ImportError:
        raise ExportError("INT8 export needs NNCF: pip install nncf") from None

    keep_float = emission_projection(model)
    # Attention (BERT) needs NNCF's transformer scheme (asymmetric activations, SmoothQuant,
    # sensitive ops in float): the default scheme dropped a fine-tuned MiniLM's F1 from 100 to 76.
    transformer = any(op.get_type_name() in ("Softmax", "ScaledDotProductAttention") for op in model.get_ops())
    samples = sum(len(batch) for batch in calibration)
    logger.info("export: INT8 calibration on %d sentences, keeping %s in float", samples, keep_float)
    options = {"model_type": nncf.ModelType.TRANSFORMER} if transformer else {}
    try:
        quantized = nncf.quantize(model, nncf.Dataset(list(calibration)), subset_size=len(calibration),
                                  ignored_scope=nncf.IgnoredScope(names=keep_float, types=["LSTMSequence"], validate=False),
                                  **options)
    except Exception as exc:  # NNCF raises many types; the cause is kept
        raise ExportError(f"INT8 quantization (NNCF {nncf.__version__}) failed: {exc}") from exc
    return quantized, {"kept_float": keep_float + ["LSTMSequence ops"], "calibration_sentences": samples,
                       "scheme": "transformer" if transformer else "default"}


def quantize_ir(xml_path: Path, out_xml: Path, calibration: Sequence[np.ndarray]) -> dict:
    """Write an INT8 copy of the IR ``xml_path`` to ``out_xml``, calibrated on the padded id
    batches ``calibration``; returns what was kept in float and how many quantizers moved."""
    import openvino as ov

    quantized, info = nncf_quantize(ov.Core().read_model(str(xml_path)), calibration)
    info["quantizers_moved_before_layout_ops"] = hoist_quantizers(quantized)
    ov.save_model(quantized, str(out_xml), compress_to_fp16=False)
    return info


def quantize_onnx_dynamic(onnx_path: Path, out_path: Path) -> dict:
    """Write an INT8 copy of the ONNX model for ONNX Runtime (dynamic quantization: int8 weights,
    activations quantized per call, so no calibration data): the recurrent layers become
    ``DynamicQuantizeLSTM``, the matrix products int8. The emission projection (the last
    ``MatMul`` before the output, which decides the tags) stays float. Returns what was done."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(onnx_path))
    producers = {out: node for node in model.graph.node for out in node.output}
    keep, frontier, seen = [], [o.name for o in model.graph.output], set()
    while frontier:  # walk back from the output to the nearest MatMul
        node = producers.get(frontier.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.op_type == "MatMul":
            keep.append(node.name)
        elif node.op_type not in ("LSTM", "Gather"):
            frontier.extend(node.input)
    try:
        quantize_dynamic(str(onnx_path), str(out_path), weight_type=QuantType.QInt8, nodes_to_exclude=keep,
                         op_types_to_quantize=["MatMul", "LSTM"])
    except Exception as exc:  # the quantizer raises many types; the cause is kept
        raise ExportError(f"ONNX Runtime dynamic quantization failed: {exc}") from exc
    ops = {node.op_type for node in onnx.load(str(out_path)).graph.node}
    return {"file": out_path.name, "kept_float": keep, "quantized_lstm": "DynamicQuantizeLSTM" in ops,
            "scheme": "dynamic (onnxruntime.quantization.quantize_dynamic, QInt8 weights)"}
