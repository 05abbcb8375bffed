"""Export a saved model to ONNX + OpenVINO IR + metadata for the TensorFlow-free runtime.

examples:
  bilstm-crf-ner export models/msra ir/
  bilstm-crf-ner export models/msra ir/ --overwrite --compress-to-fp16 --ovms-name msra
  bilstm-crf-ner export models/msra ir/ --int8 ../shared/data/msra/train.bio

The folder also holds the IR in the layout OpenVINO Model Server loads (ir/ovms/<name>/1/);
see docs/deployment.md. Every exported graph is checked against Keras on a padded batch
before anything is written; a failed export leaves no folder behind.
"""

from __future__ import annotations

import argparse

from .common import UsageError

NAME = "export"
HELP = "export a saved model to ONNX + OpenVINO IR"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a saved model folder (written by train or BLSTMCRFModel.save)")
    parser.add_argument("output", help="export folder to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing export folder")
    parser.add_argument("--ovms-name", default="ner", help="model name in the OpenVINO Model Server layout")
    parser.add_argument("--compress-to-fp16", action="store_true", help="store IR weights in fp16")
    parser.add_argument("--no-measure", action="store_true",
                        help="skip timing the backends (the runtime then defaults to OpenVINO f32)")
    parser.add_argument("--default-precision", choices=("auto", "f32", "fastest"), default="auto",
                        help="f32: the runtime's default gives exactly the Keras tags; fastest: bf16/INT8 may be "
                             "the default where measured faster and >= 99.5%% tag agreement; auto (default): "
                             "fastest with --int8, else f32")
    parser.add_argument("--int8", metavar="CONLL", default=None,
                        help="also write an INT8 IR (NNCF post-training quantization) calibrated on sentences of this file")
    parser.add_argument("--int8-samples", type=int, default=300, help="calibration sentences for --int8")


def run(args) -> int:
    from ..keras.model import BLSTMCRFModel

    options = {}
    if args.int8:
        from ..corpus.conll import read_conll

        sentences, _ = read_conll(args.int8)
        if not sentences:
            raise UsageError(f"{args.int8} has no sentences to calibrate INT8 on")
        options.update(int8_calibration=sentences[: args.int8_samples])
    model = BLSTMCRFModel.load(args.model)
    path = model.export(args.output, overwrite=args.overwrite, ovms_name=args.ovms_name, measure=not args.no_measure,
                        compress_to_fp16=args.compress_to_fp16, default_precision=args.default_precision,
                        progress=not args.quiet, **options)
    print(f"exported to {path}")
    return 0
