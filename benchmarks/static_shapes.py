"""Static vs dynamic shapes in OpenVINO on a realistic workload: bulk prediction over MSRA test
sentences of mixed lengths, cold (first call: every new batch shape compiles) and warm (second
call), with the process's peak memory. Each setting runs in its own process.

    python benchmarks/static_shapes.py --export /tmp/bert-msra-ir --precisions int8,f32 \\
        --output benchmarks/results/static_shapes_bert_4x256_msra.json

The export's own timing uses one 16 x 128 batch, where static shapes win; this shows what they
cost when lengths vary (compilations, memory) and when they pay off. ``--smoke`` runs it on 64
sentences with a tiny model's export (a test of the script, not a measurement).
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

import _smoke as smoke


def worker(args):
    from bilstm_crf_ner.corpus import msra_files, read_conll
    from bilstm_crf_ner.runtime import Tagger

    x, _ = read_conll(msra_files(args.data_dir)["test"])
    texts = ["".join(s) for s in x[: args.sentences]]
    tagger = Tagger.load(args.export, backend="openvino", precision=args.precision, static_shapes=args.static,
                         shape_memory_mb=args.shape_memory_mb)
    loaded_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rounds = []
    for _ in range(2):
        start = time.perf_counter()
        tagger.predict(texts, batch_size=16)
        rounds.append(time.perf_counter() - start)
    print(json.dumps({
        "precision": args.precision, "static_shapes": args.static, "sentences": len(texts),
        "shape_memory_budget_mib": args.shape_memory_mb if args.static else None,
        "cold_s": rounds[0], "warm_s": rounds[1], "peak_rss_after_load_mib": loaded_mib,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "compiled_shapes": tagger.backend.compiled_shapes,
        "shape_memory_mib": tagger.backend.shape_memory_bytes / 2**20,
    }))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", default=None, help="an export folder (required unless --smoke)")
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: $MSRA_DIR)")
    parser.add_argument("--sentences", type=int, default=2000, help="first N MSRA test sentences")
    parser.add_argument("--precisions", default="f32", help="comma-separated, e.g. int8,f32")
    parser.add_argument("--shape-memory-mb", type=float, default=None,
                        help="memory budget of the compiled static shapes (default: the backend's)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    parser.add_argument("--static", action="store_true", help=argparse.SUPPRESS)
    args = smoke.parse_args(parser, argv, sentences=smoke.SENTENCES)
    if args.precision:
        return worker(args)
    if args.export is None:
        if not args.smoke:
            parser.error("--export is required")
        args.export = str(smoke.tiny_export(args.data_dir))
    results = []
    for precision in args.precisions.split(","):
        for static in (False, True):
            cmd = [sys.executable, __file__, "--export", args.export, "--sentences", str(args.sentences),
                   "--output", args.output, "--precision", precision] + (["--static"] if static else [])
            if args.shape_memory_mb:
                cmd += ["--shape-memory-mb", str(args.shape_memory_mb)]
            if args.data_dir:
                cmd += ["--data-dir", args.data_dir]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                                 env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
            r = results[-1]
            print(f"{precision:5s} {'static ' if static else 'dynamic'} cold {r['cold_s']:6.2f} s  warm {r['warm_s']:6.2f} s  "
                  f"peak RSS {r['peak_rss_mib']:6.0f} MiB (after load {r['peak_rss_after_load_mib']:.0f})  "
                  f"shapes {r['compiled_shapes']} ({r['shape_memory_mib']:.0f} MiB measured)", flush=True)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"export": args.export, "cpus": os.cpu_count(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
