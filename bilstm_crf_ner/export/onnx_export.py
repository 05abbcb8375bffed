"""Keras network -> ONNX -> OpenVINO IR, with a numerical check of every exported graph.

The exported graph maps padded ids ``token_ids [batch, time(, channels)]`` (int32, 0 =
padding, batch and time dynamic; channels as the embedding encodes them, e.g. token and bigram
ids, or WordPiece ids and first-piece positions for BERT) to CRF emission scores
``emissions [batch, tokens, tags]``. Decoding
(constrained Viterbi) happens outside the graph in numpy, from the CRF scores stored in the
metadata, exactly as :mod:`bilstm_crf_ner.core.decoding` defines it.

The network is traced as a ``tf.function`` with an explicit input signature and converted by
``tf2onnx.convert.from_function``; OpenVINO then reads the ONNX file. The BiLSTM has no Keras
mask (see :mod:`bilstm_crf_ner.keras.layers.bilstm`), so both LSTM directions become native ONNX
``LSTM`` ops and padded batches stay exact.
"""

from __future__ import annotations

import logging
from pathlib import Path


from ..core.errors import BilstmCrfNerError

logger = logging.getLogger(__name__)

INPUT_NAME = "token_ids"
OUTPUT_NAME = "emissions"
OPSET = 17


class ExportError(BilstmCrfNerError, RuntimeError):
    """Conversion failed, or an exported graph does not reproduce the Keras network."""


def network_to_onnx(network, input_spec, path: Path, opset: int = OPSET):
    """Write ``network`` (token ids -> emissions) to the ONNX file ``path``; returns the proto."""
    import onnx
    import tensorflow as tf
    import tf2onnx

    @tf.function(input_signature=[tf.TensorSpec(input_spec.shape, tf.int32, name=INPUT_NAME)])
    def emissions(token_ids):
        return {OUTPUT_NAME: tf.cast(network(token_ids, training=False), tf.float32)}

    try:
        proto, _ = tf2onnx.convert.from_function(emissions, input_signature=emissions.input_signature,
                                                 opset=opset, output_path=str(path))
        onnx.checker.check_model(proto)
    except Exception as exc:  # tf2onnx raises many types; the cause is kept
        raise ExportError(f"ONNX conversion failed: {exc}") from exc
    ops = {node.op_type for node in proto.graph.node}
    if "Loop" in ops or "Scan" in ops:
        raise ExportError(f"the ONNX graph contains a generic loop ({sorted(ops & {'Loop', 'Scan'})}); "
                          "OpenVINO cannot run it")
    return proto


def onnx_to_openvino(onnx_path: Path, xml_path: Path, compress_to_fp16: bool = False) -> dict:
    """Convert the ONNX file to OpenVINO IR (``.xml`` + ``.bin``), with transformer layer norms and
    attention rewritten into OpenVINO's fused ops (:mod:`.graph_fusion`); returns how many were."""
    import openvino as ov

    from .graph_fusion import fuse_transformer_blocks

    try:
        model = ov.convert_model(str(onnx_path))
        fused = fuse_transformer_blocks(model)
        ov.save_model(model, str(xml_path), compress_to_fp16=compress_to_fp16)
    except Exception as exc:
        raise ExportError(f"OpenVINO conversion failed: {exc}") from exc
    return fused
