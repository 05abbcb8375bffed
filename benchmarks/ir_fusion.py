"""Benchmark: a transformer export's OpenVINO IR with and without the export's layer-norm and
attention fusions (``bilstm_crf_ner.export.graph_fusion``), interleaved in one process.

    python benchmarks/ir_fusion.py --export /tmp/chart-bert-ir --data-dir ../shared/data/msra \\
        --unfused-int8 /tmp/old-export/model_int8.xml --output benchmarks/results/ir_fusion_bert_4x256.json

The unfused IR is converted afresh from the export's ``model.onnx`` (``ov.convert_model``, as the export does;
so compare exports written without ``compress_to_fp16``); the fused one is the
export's ``model.xml`` (written with the fusions). Both run on 16 MSRA test texts cut to 128
characters and on 16 mixed-length test sentences, per precision the CPU has (f32, bf16; INT8
and INT8 with bf16 float parts when ``--unfused-int8`` names an INT8 IR of the same model made
without the fusions, to compare with the export's ``model_int8.xml``). Records medians (ms) of
``--repeats`` interleaved calls, the largest emission difference on real tokens, how often the
best tag per token agrees, and the fused model's most expensive op types (OpenVINO's per-op
profile). ``--smoke`` runs it on a tiny random BERT's export (a test of the script, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import openvino as ov

from bilstm_crf_ner.cli.benchmark import cpu_name
from bilstm_crf_ner.core.batching import pad_batch
from bilstm_crf_ner.corpus import msra_files, read_conll
from bilstm_crf_ner.export.graph_fusion import fuse_transformer_blocks
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.runtime.backends import cpu_precisions
from bilstm_crf_ner.runtime.benchmark import benchmark_batch, interleaved_ms

import _smoke as smoke


def padded_batch(encoder, texts) -> tuple:
    """``(padded ids, token counts)`` of ``texts`` as the runtime encodes them."""
    tokens = [encoder.tokenize(text)[0] for text in texts]
    return pad_batch(encoder.encode_many(tokens)), [len(t) for t in tokens]


def batches(export: str, data_dir, max_length: int) -> dict:
    """``{name: (padded ids, lengths)}``: 16 texts cut to ``max_length`` characters and the
    first 16 test sentences (cut to it too)."""
    encoder = Tagger.load(export, backend="openvino", precision="f32").predictor.encoder
    texts = ["".join(s) for s in read_conll(msra_files(data_dir)["test"])[0]]
    return {name: padded_batch(encoder, chosen)
            for name, chosen in (("16x128", benchmark_batch(texts, 16, max_length)), ("mixed", [t[:max_length] for t in texts[:16]]))}


def op_profile(model: ov.Model, hint: str, ids, top: int = 10) -> dict:
    """Milliseconds per op type (and kernel) of one call, summed over ops, after 5 warm-up calls."""
    request = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERF_COUNT": True}) \
        .create_infer_request()
    for _ in range(6):
        request.infer({0: ids})
    totals = Counter()
    for info in request.profiling_info:
        totals[f"{info.node_type} ({info.exec_type})"] += info.real_time.total_seconds() * 1e3
    return {"total_ms": sum(totals.values()), "top": dict(totals.most_common(top))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", default=None, help="a transformer model's export folder (required unless --smoke)")
    parser.add_argument("--unfused-int8", default=None, help="an INT8 IR (.xml) of the same model exported without the fusions")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--max-length", type=int, default=128, help="characters per text of the fixed batch")
    parser.add_argument("--output", default="benchmarks/results/ir_fusion.json")
    args = smoke.parse_args(parser, argv, repeats=2, max_length=30)
    if args.export is None:
        if not args.smoke:
            parser.error("--export is required")
        args.export = str(smoke.tiny_bert_export(args.data_dir))
    core, export = ov.Core(), Path(args.export)
    unfused = ov.convert_model(str(export / "model.onnx"))  # as the export converts it, before its fusions
    fused = core.read_model(str(export / "model.xml"))
    types = Counter(op.get_type_name() for op in fused.get_ops())
    counts = {"export_ir": {name: types[name] for name in ("MVN", "ScaledDotProductAttention", "Softmax")},
              "fusions_of_a_fresh_conversion": fuse_transformer_blocks(unfused.clone())}
    pairs = {hint: (unfused, fused) for hint in ("f32", "bf16") if hint in cpu_precisions()}
    if args.unfused_int8:
        int8 = (core.read_model(args.unfused_int8), core.read_model(str(export / "model_int8.xml")))
        pairs.update({hint: int8 for hint in ("int8", "int8_bf16") if hint in cpu_precisions()})
    data = batches(args.export, args.data_dir, args.max_length)
    results = {}
    for name, (before, after) in pairs.items():
        hint = "bf16" if name.endswith("bf16") else "f32"
        requests = [core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint}).create_infer_request()
                    for m in (before, after)]
        row = {}
        for batch, (ids, lengths) in data.items():
            a, b = (r.infer({0: ids})[0].copy() for r in requests)
            valid = np.arange(a.shape[1])[None, :] < np.array(lengths)[:, None]
            row[f"{batch}_max_abs_diff"] = float(np.abs(a - b)[valid].max())
            row[f"{batch}_best_tag_agreement"] = float((a.argmax(-1) == b.argmax(-1))[valid].mean())
            ms = interleaved_ms([lambda r=r: r.infer({0: ids}) for r in requests], args.repeats)
            row[f"{batch}_ms_unfused_fused"] = ms
            row[f"{batch}_speedup"] = ms[0] / ms[1]
        row["fused_profile_16x128"] = op_profile(after, hint, data["16x128"][0])
        results[name] = row
        print(name, {k: v for k, v in row.items() if "profile" not in k}, flush=True)
    out = {"cpu": cpu_name(), "cpus": os.cpu_count(), "export": args.export, "unfused_int8": args.unfused_int8,
           "batch_16x128_shape": list(data["16x128"][0].shape), "fused_ops": counts, "repeats": args.repeats,
           "results": results}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
