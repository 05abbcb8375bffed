"""Tag many files on Ray Data (a pool of tagger actors); resumable, no TensorFlow.

examples:
  bilstm-crf-ner tag ir/ "archive/*.jsonl" out/ --text-field body --workers 4
  bilstm-crf-ner tag ir/ "news/*.txt" out/ --output-format parquet
  bilstm-crf-ner tag ir/ "s3-mirror/*.parquet" out/ --address auto --workers 16

Each input file is a shard: JSON lines (--text-field, --id-field), plain text (one text a line)
or Parquet, told apart by suffix unless --input-format says. Each shard becomes
OUT/<name>.jsonl (or .parquet) with {"line", "id", "entities"} per record (id: the record's
--id-field, else its line number), written atomically: a rerun skips complete shards
(--overwrite redoes them), and a worker that dies costs a retry of its shard, not data. Prints
a JSON summary. Needs pip install "bilstm_crf_ner[serve]".
"""

from __future__ import annotations

import argparse
import json
import os
import time

NAME = "tag"
HELP = "bulk-tag JSON lines / text / Parquet files on Ray (resumable, one output per input shard)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="an exported folder")
    parser.add_argument("inputs", help="input files: a path or a glob pattern (quote it)")
    parser.add_argument("output", help="output folder")
    parser.add_argument("--text-field", default="text", help="field (column) holding the text (JSON lines, Parquet)")
    parser.add_argument("--id-field", default="id", help="field (column) holding the record id, if any")
    parser.add_argument("--input-format", choices=("jsonl", "text", "parquet"), default=None,
                        help="default: from each file's suffix")
    parser.add_argument("--output-format", choices=("jsonl", "parquet"), default="jsonl")
    parser.add_argument("--workers", type=int, default=None, help="tagger actors (default: this machine's cores)")
    parser.add_argument("--cpus-per-worker", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=None, help="inference threads per worker (default: its CPU share)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--overwrite", action="store_true", help="tag complete shards again")
    parser.add_argument("--address", default=None, help="Ray cluster (auto, ray://head:10001); default: local")
    parser.add_argument("--backend", choices=("openvino", "onnxruntime"), default=None)
    parser.add_argument("--precision", choices=("f32", "bf16", "int8"), default=None)
    parser.add_argument("--static-shapes", action="store_true", help="OpenVINO: compile per batch shape")


def run(args) -> int:
    from ..core.errors import ModelLoadError
    from ..runtime.layout import METADATA_FILE
    from ..serve import require_ray

    require_ray("data")
    if not args.address and not os.path.isfile(os.path.join(args.model, METADATA_FILE)):
        raise ModelLoadError(f"{args.model} is not an exported folder (no {METADATA_FILE})")
    from ..runtime.ray import init_ray, plan_shards, tag_files

    plan_shards(args.inputs, args.output, args.output_format, args.input_format)  # fail before starting Ray
    workers = args.workers or max(1, int((os.cpu_count() or 1) // args.cpus_per_worker))
    local = not args.address
    init_ray(args.address, include_dashboard=False, logging_level="WARNING")
    import ray
    import ray.data

    if args.quiet:
        ray.data.DataContext.get_current().enable_progress_bars = False
    started = time.perf_counter()
    try:
        summary = tag_files(os.path.abspath(args.model), args.inputs, args.output, text_field=args.text_field,
                            id_field=args.id_field, input_format=args.input_format, output_format=args.output_format,
                            workers=workers, cpus_per_worker=args.cpus_per_worker, num_threads=args.threads,
                            batch_size=args.batch_size, overwrite=args.overwrite, backend=args.backend,
                            precision=args.precision, static_shapes=True if args.static_shapes else None)
    finally:
        if local:
            ray.shutdown()
    seconds = time.perf_counter() - started
    print(json.dumps({**summary.to_dict(), "seconds": round(seconds, 2),
                      "records_per_s": round(summary.records / seconds, 1) if summary.records else 0.0}))
    return 0
