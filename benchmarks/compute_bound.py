"""Benchmark: an export's model time against the compute bound this CPU attains.

    python benchmarks/compute_bound.py --export /tmp/chart-bert-ir --data-dir ../shared/data/msra \\
        --output benchmarks/results/compute_bound_bert_4x256.json

Counts the multiply-adds of the export's IR on 16 MSRA test texts cut to 128 characters
(:func:`bilstm_crf_ner.runtime.multiply_adds.multiply_adds`: matrix products, attention, the
BiLSTM), measures the rate OpenVINO's own matrix product reaches on this CPU in each precision
(a ``--gemm M K N`` product, float and with INT8 fake-quantized operands), and divides: the
compute bound is the time the model's multiply-adds take at that rate. INT8 engines are bounded
with their matrix products at the INT8 rate and attention and the BiLSTM (which run in float) at
the rate of their float precision; and the most INT8 with bf16 float parts can gain over bf16
when its matrix products run at the INT8 rate and everything else as in bf16 (Amdahl's law,
``ceiling_over_bf16``). The engine ``Tagger.load`` runs by default (the export's default
OpenVINO precision with its static shapes and row streams; or, where the export's default is not
OpenVINO, the last precision timed with row streams on every inference thread) is timed too, as
``default_engine``: the model as users run it against the bound of its precision (with static
shapes it computes a batch padded to a multiple of 16 positions, counted as the unpadded batch).
Model runs and products alternate and each keeps its fastest round, so a slow spell of a shared
machine cannot favour either side.

A theoretical peak (the CPU's multiply-adds per cycle times its clock) is a bound no kernel
reaches on a virtual machine; the measured product rate is the bound a model could reach.
``--smoke`` runs it on a tiny random BERT's export with a small product (a test of the script).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import openvino as ov
from openvino import opset13 as ops

from bilstm_crf_ner.cli.benchmark import cpu_name
from bilstm_crf_ner.runtime.backends import OpenVINOBackend, cpu_precisions, default_engine, default_streams
from bilstm_crf_ner.runtime.benchmark import interleaved_ms
from bilstm_crf_ner.runtime.multiply_adds import multiply_adds

import _smoke as smoke
from ir_fusion import batches

FLOAT_OF = {"f32": "f32", "bf16": "bf16", "int8": "f32", "int8_bf16": "bf16"}


def ir_kind(precision: str) -> str:
    """Which IR of an export a precision runs: ``"int8"`` (``model_int8.xml``) or ``"float"``."""
    return "int8" if precision.startswith("int8") else "float"


def product_model(m: int, k: int, n: int, int8: bool, seed: int = 0) -> ov.Model:
    """``x [m, k] @ w [k, n]`` with a constant ``w``; with ``int8``, both operands pass through
    8-bit ``FakeQuantize`` ops (as NNCF writes them), which the CPU plugin runs as an INT8 product."""
    rng = np.random.default_rng(seed)
    x = ops.parameter([m, k], np.float32, name="x")
    a, b = x.output(0), ops.constant((rng.standard_normal((k, n)) * 0.05).astype(np.float32)).output(0)
    if int8:
        def fake_quantize(value, bound, levels):
            low, high = ops.constant(np.float32(-bound)), ops.constant(np.float32(bound))
            return ops.fake_quantize(value, low, high, low, high, levels).output(0)
        a, b = fake_quantize(a, 4.0, 256), fake_quantize(b, 0.2, 255)
    return ov.Model([ops.matmul(a, b, False, False)], [x])


def default_run(export: Path, engines: list[str], cores: int):
    """``(engine description, OpenVINOBackend)`` of the engine ``Tagger.load`` runs by default,
    or of the last of ``engines`` with a row stream per core where the export's default is not
    OpenVINO; None where no precision can run."""
    if not engines:
        return None
    metadata = json.loads((export / "metadata.json").read_text(encoding="utf-8"))
    backend, precision, static = default_engine(metadata)
    streams = default_streams(metadata)
    is_default = backend == "openvino" and precision in engines
    if not is_default:
        precision, static, streams = engines[-1], False, cores
    xml = export / ("model_int8.xml" if ir_kind(precision) == "int8" else "model.xml")
    described = {"precision": precision, "static_shapes": static, "is_export_default": is_default}
    return described, OpenVINOBackend(xml, precision, static_shapes=static, streams=streams)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", default=None, help="an export folder (required unless --smoke)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--max-length", type=int, default=128, help="characters per text of the 16-text batch")
    parser.add_argument("--gemm", type=int, nargs=3, default=[4096, 1024, 1024], metavar=("M", "K", "N"),
                        help="the matrix product whose rate is taken as attainable")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--output", default="benchmarks/results/compute_bound.json")
    args = smoke.parse_args(parser, argv, repeats=2, max_length=30, gemm=[256, 64, 64])
    if args.export is None:
        if not args.smoke:
            parser.error("--export is required")
        args.export = str(smoke.tiny_bert_export(args.data_dir))
    core, export = ov.Core(), Path(args.export)
    ids, _ = batches(args.export, args.data_dir, args.max_length)["16x128"]
    irs = {"float": export / "model.xml", "int8": export / "model_int8.xml"}
    precisions = [p for p in ("f32", "bf16", "int8", "int8_bf16") if p in cpu_precisions()]
    engines = [p for p in precisions if irs[ir_kind(p)].is_file()]
    work = {kind: multiply_adds(core.read_model(str(path)), ids) for kind, path in irs.items() if path.is_file()}
    m, k, n = args.gemm
    x = np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)
    runs = {}
    for precision in precisions:
        hint = {"INFERENCE_PRECISION_HINT": FLOAT_OF[precision]}
        product = core.compile_model(product_model(m, k, n, ir_kind(precision) == "int8"), "CPU", hint)
        runs[f"product_{precision}"] = (product.create_infer_request(), x)
        if precision in engines:
            ir = core.read_model(str(irs[ir_kind(precision)]))
            runs[f"model_{precision}"] = (core.compile_model(ir, "CPU", hint).create_infer_request(), ids)
    calls = {name: (lambda r=r, v=v: r.infer({0: v}, share_inputs=True, share_outputs=True)) for name, (r, v) in runs.items()}
    default = default_run(export, engines, os.cpu_count() or 1)
    if default is not None:
        calls["default_engine"] = lambda b=default[1]: b(ids)
    times = dict(zip(calls, interleaved_ms(list(calls.values()), args.repeats, statistic="min")))
    rates = {p: m * k * n / (times[f"product_{p}"] / 1e3) for p in precisions}
    results = {}
    for precision in engines:
        counted = work[ir_kind(precision)]
        at_own_rate = counted["by_op_type"].get("MatMul", 0) if ir_kind(precision) == "int8" else counted["total"]
        bound_ms = (at_own_rate / rates[precision] + (counted["total"] - at_own_rate) / rates[FLOAT_OF[precision]]) * 1e3
        model_ms = times[f"model_{precision}"]
        results[precision] = {"model_ms": model_ms, "bound_ms": bound_ms, "model_over_bound": model_ms / bound_ms,
                              "achieved_multiply_adds_per_s": counted["total"] / (model_ms / 1e3)}
        print(f"{precision:10s} model {model_ms:7.2f} ms, bound {bound_ms:6.2f} ms: {model_ms / bound_ms:.2f}x the bound",
              flush=True)
    if default is not None:
        engine, backend = default
        precision = engine["precision"]
        model_ms = times["default_engine"]
        results["default_engine"] = {**engine, "streams": backend.streams, "model_ms": model_ms,
                                     "bound_ms": results[precision]["bound_ms"],
                                     "model_over_bound": model_ms / results[precision]["bound_ms"]}
        backend.close()
        print(f"default engine ({precision}{', static shapes' if engine['static_shapes'] else ''}, {backend.streams} row "
              f"streams) model {model_ms:7.2f} ms: {results['default_engine']['model_over_bound']:.2f}x the bound", flush=True)
    if {"bf16", "int8_bf16"} <= set(results):
        # Amdahl: the bf16 model with only its matrix products made INT8, at the products' measured rates.
        products = work["float"]["by_op_type"].get("MatMul", 0)
        saved_ms = products * (1 / rates["bf16"] - 1 / rates["int8_bf16"]) * 1e3
        results["int8_bf16"]["ceiling_over_bf16"] = results["bf16"]["model_ms"] / (results["bf16"]["model_ms"] - saved_ms)
        print(f"INT8 + bf16 at most {results['int8_bf16']['ceiling_over_bf16']:.2f}x bf16 here "
              f"(matrix products {saved_ms:.1f} ms faster, everything else unchanged)")
    out = {"cpu": cpu_name(), "cpus": os.cpu_count(), "export": args.export, "batch_shape": list(ids.shape),
           "multiply_adds": work, "product_shape": [m, k, n], "product_ms": {p: times[f"product_{p}"] for p in precisions},
           "product_multiply_adds_per_s": rates, "repeats": args.repeats, "statistic": "fastest round",
           "default_engine": results.pop("default_engine", None), "results": results}
    print("product rates (G multiply-adds/s):", {p: round(r / 1e9, 1) for p, r in rates.items()})
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
