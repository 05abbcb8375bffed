"""Benchmark: Keras vs ONNX Runtime vs OpenVINO (f32, bf16) for an exported tagger, on MSRA text.

Each engine runs in its own subprocess (so load time and peak memory are its own), on the same
inputs, on this machine, in one invocation:

- model-only: a 16 x 128 batch of token ids -> emissions (Keras: the network's ``tf.function``);
- end-to-end: 16 raw MSRA test strings cut to 128 characters -> tags (tokenize, run, Viterbi);
- batch-1 latency: one raw test sentence -> tags;
- load time and peak RSS; MSRA test F1 and tag agreement with Keras on the first N test sentences.

    python benchmarks/runtime_speed.py --model models/msra --data-dir ../shared/data/msra

Writes ``benchmarks/results/runtime_speed.json`` and a PNG chart beside it (the chart needs
matplotlib: ``pip install ".[benchmarks]"``). With ``--export DIR`` an existing export is timed
as it is (OpenVINO INT8 too if it has one; OpenVINO with the static-shape setting it recorded).
``--smoke`` times a tiny model (trained on 64 sentences) and its export, with 2 repeats and F1 on
32 sentences (a test of the script, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bilstm_crf_ner.runtime.benchmark import measure

import _smoke as smoke

ENGINES = [("keras", "f32"), ("onnxruntime", "f32"), ("openvino", "f32"), ("openvino", "bf16")]


def worker(args):
    """Measure one engine; print one JSON line."""
    from bilstm_crf_ner.corpus import msra_files, read_conll
    from bilstm_crf_ner.core.evaluation import entity_report
    from bilstm_crf_ner.core.tags import convert_tags

    test_x, test_y = read_conll(msra_files(args.data_dir)["test"])
    start = time.perf_counter()
    if args.engine == "keras":
        from bilstm_crf_ner import BLSTMCRFModel

        tagger = BLSTMCRFModel.load(args.model)
    else:
        from bilstm_crf_ner.runtime import Tagger

        tagger = Tagger.load(args.export, backend=args.engine, precision=args.precision)
    load_s = time.perf_counter() - start
    # The 16 longest test strings cut to 128 characters; batch 1: the first test sentence.
    speed = measure(tagger, ["".join(s) for s in test_x], batch_size=16, max_length=128, repeats=args.repeats)
    result = {
        "engine": args.engine, "precision": args.precision, "load_s": load_s,
        "static_shapes": bool(getattr(getattr(tagger, "backend", None), "static_shapes", False)),
        "model_only_16x128_ms": speed["model_only_ms"], "end_to_end_16x128_ms": speed["end_to_end_ms"],
        "batch1_latency_ms": speed["batch1_latency_ms"],
    }
    sample_x, sample_y = test_x[: args.eval_sentences], test_y[: args.eval_sentences]
    predicted = tagger.predict(sample_x, batch_size=16, tag_scheme="BIO")
    result["f1"] = entity_report([convert_tags(t, "BIO", "BIO") for t in sample_y], predicted).f1
    result["tags"] = predicted
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['engine']}\n{r['precision']}" for r in results]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in [(axes[0], "end_to_end_16x128_ms", "16 x 128 batch, raw text -> tags (ms)"),
                           (axes[1], "batch1_latency_ms", "batch 1 latency (ms)")]:
        values = [r[key] for r in results]
        ax.bar(labels, values, color=["#888", "#1f77b4", "#2ca02c", "#98df8a", "#d62728"][: len(values)])
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.1f}", ha="center", va="bottom")
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a saved BLSTMCRFModel folder (required unless --smoke)")
    parser.add_argument("--export", default=None,
                        help="an existing export folder to time (default: export the model to <model>-ir first)")
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: $MSRA_DIR)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--eval-sentences", type=int, default=1000)
    parser.add_argument("--output", default="benchmarks/results/runtime_speed.json")
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    args = smoke.parse_args(parser, argv, repeats=2, eval_sentences=32)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if args.engine:
        return worker(args)
    if args.model is None:
        if not args.smoke:
            parser.error("--model is required")
        args.model, args.export = str(smoke.tiny_model(args.data_dir)), str(smoke.tiny_export(args.data_dir))
    if args.export is None:
        args.export = f"{args.model.rstrip('/')}-ir"
        export_code = ("import sys; from bilstm_crf_ner import BLSTMCRFModel; "
                       "BLSTMCRFModel.load(sys.argv[1]).export(sys.argv[2], overwrite=True)")
        subprocess.run([sys.executable, "-c", export_code, args.model, args.export], check=True, env=env)
    metadata = json.loads((Path(args.export) / "metadata.json").read_text())
    results = []
    for engine, precision in ENGINES + ([("openvino", "int8")] if metadata.get("int8") else []):
        cmd = [sys.executable, __file__, "--model", args.model, "--export", args.export, "--repeats", str(args.repeats),
               "--eval-sentences", str(args.eval_sentences), "--engine", engine, "--precision", precision]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{engine:12s} {precision:5s} e2e16x128 {results[-1]['end_to_end_16x128_ms']:8.2f} ms  "
              f"model {results[-1]['model_only_16x128_ms']:8.2f} ms  b1 {results[-1]['batch1_latency_ms']:6.2f} ms  "
              f"load {results[-1]['load_s']:.2f} s  F1 {results[-1]['f1']:.4f}  rss {results[-1]['peak_rss_mib']:.0f} MiB",
              flush=True)
    keras_tags = results[0].pop("tags")
    for r in results[1:]:
        tags = r.pop("tags")
        pairs = [(a, b) for x, y in zip(keras_tags, tags) for a, b in zip(x, y)]
        r["token_agreement_with_keras"] = float(np.mean([a == b for a, b in pairs]))
        r["sentences_identical_to_keras"] = float(np.mean([x == y for x, y in zip(keras_tags, tags)]))
        r["speedup_vs_keras_e2e"] = results[0]["end_to_end_16x128_ms"] / r["end_to_end_16x128_ms"]
    for r in results:
        r["tokenize_decode_share"] = 1 - r["model_only_16x128_ms"] / r["end_to_end_16x128_ms"]
    report = {"model": args.model, "export_metadata_speed": metadata.get("speed_16x128"),
              "default_backend": metadata.get("default_backend"), "cpus": os.cpu_count(), "results": results}
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1))
    chart(results, output.with_suffix(".png"))
    print(f"wrote {output} and {output.with_suffix('.png')}")


if __name__ == "__main__":
    main()
