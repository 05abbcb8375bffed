"""Benchmark: an INT8 IR with NNCF's activation quantizers where NNCF puts them (behind
tf2onnx's reshapes and transposes) and where the export moves them (in front,
``bilstm_crf_ner.export.quantizer_hoisting``), against the float IR in bf16, interleaved.

    python benchmarks/quantizer_hoisting.py --export /tmp/bert-ir --data-dir ../shared/data/msra \\
        --output benchmarks/results/quantizer_hoisting_bert_4x256.json

Quantizes the export's f32 IR afresh with the export's NNCF settings
(``bilstm_crf_ner.export.quantize.nncf_quantize``) on ``--calibration`` MSRA train sentences,
copies it and moves the copy's quantizers. Times the float IR (bf16; f32 with ``--f32``) and both
INT8 IRs (with f32 and, where the CPU has it, bf16 float parts) on 16 MSRA test texts cut to 128
characters and 16 mixed-length test sentences: the fastest and the median of ``--repeats``
interleaved calls. Records how often each INT8 IR's best tag per token equals the float IR's
in f32 on 320 test sentences (padding excluded), and the largest emission difference between
the two INT8 IRs. ``--smoke`` runs it on a tiny random BERT's export (a test of the script).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import openvino as ov

from bilstm_crf_ner.cli.benchmark import cpu_name
from bilstm_crf_ner.corpus import msra_files, read_conll
from bilstm_crf_ner.export.quantize import nncf_quantize
from bilstm_crf_ner.export.quantizer_hoisting import hoist_quantizers
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.runtime.backends import cpu_precisions
from bilstm_crf_ner.runtime.benchmark import interleaved_times

import _smoke as smoke
from ir_fusion import batches, padded_batch


def padded(encoder, sentences, batch_size: int = 16) -> list:
    """``(ids, lengths)`` batches of ``sentences`` (lists of characters), ``batch_size`` each."""
    texts = ["".join(s) for s in sentences]
    return [padded_batch(encoder, texts[start:start + batch_size]) for start in range(0, len(texts), batch_size)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", default=None, help="an export folder of a transformer model (required unless --smoke)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--calibration", type=int, default=300, help="MSRA train sentences NNCF calibrates on")
    parser.add_argument("--agreement-sentences", type=int, default=320)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--output", default="benchmarks/results/quantizer_hoisting.json")
    args = smoke.parse_args(parser, argv, repeats=2, max_length=30, calibration=32, agreement_sentences=32)
    if args.export is None:
        if not args.smoke:
            parser.error("--export is required")
        args.export = str(smoke.tiny_bert_export(args.data_dir))
    core = ov.Core()
    float_ir = core.read_model(str(Path(args.export) / "model.xml"))
    encoder = Tagger.load(args.export, backend="openvino", precision="f32").predictor.encoder
    files = msra_files(args.data_dir)
    train, test = read_conll(files["train"])[0], read_conll(files["test"])[0]
    calibration = [ids for ids, _ in padded(encoder, [s[:args.max_length] for s in train[:args.calibration]])]
    as_placed, info = nncf_quantize(float_ir.clone(), calibration)
    hoisted = as_placed.clone()
    moved = hoist_quantizers(hoisted)
    print(f"NNCF on {info['calibration_sentences']} sentences; {moved} quantizers moved", flush=True)

    held_out = padded(encoder, [s[:args.max_length] for s in test[:args.agreement_sentences]])
    requests = {name: core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
                for name, m in (("float", float_ir), ("int8_as_placed", as_placed), ("int8_hoisted", hoisted))}
    same, largest, tokens = {"int8_as_placed": 0, "int8_hoisted": 0}, 0.0, 0
    for ids, lengths in held_out:
        out = {name: r.infer({0: ids})[0].copy() for name, r in requests.items()}
        valid = np.arange(out["float"].shape[1])[None, :] < np.array(lengths)[:, None]
        tokens += int(valid.sum())
        for name in same:
            same[name] += int((out[name].argmax(-1) == out["float"].argmax(-1))[valid].sum())
        largest = max(largest, float(np.abs(out["int8_as_placed"] - out["int8_hoisted"])[valid].max()))
    agreement = {f"{name}_best_tag_equals_float_f32": count / tokens for name, count in same.items()}
    agreement["int8_max_abs_diff_as_placed_vs_hoisted_f32"] = largest

    float_hint = "bf16" if "bf16" in cpu_precisions() else "f32"
    engines = {f"float_{float_hint}": (float_ir, float_hint)}
    for hint in ("f32", "bf16") if "int8_bf16" in cpu_precisions() else ("f32",):
        engines[f"int8_as_placed_{hint}"] = (as_placed, hint)
        engines[f"int8_hoisted_{hint}"] = (hoisted, hint)
    compiled = {name: core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint}).create_infer_request()
                for name, (m, hint) in engines.items()}
    timings = {}
    for batch, (ids, _) in batches(args.export, args.data_dir, args.max_length).items():
        times = interleaved_times([lambda r=r: r.infer({0: ids}) for r in compiled.values()], args.repeats)
        for statistic, reduce in (("min", np.min), ("median", np.median)):
            timings[f"{batch}_{statistic}_ms"] = {name: float(reduce(t)) for name, t in zip(compiled, times)}
        print(batch, {k: round(v, 2) for k, v in timings[f"{batch}_min_ms"].items()}, flush=True)
    out = {"cpu": cpu_name(), "cpus": os.cpu_count(), "export": args.export, "nncf": info,
           "quantizers_moved": moved, "agreement": agreement, "repeats": args.repeats, "timings": timings}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
