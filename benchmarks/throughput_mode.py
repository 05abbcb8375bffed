"""Benchmark: OpenVINO latency mode (default) vs throughput mode (AsyncInferQueue) for bulk tagging.

    python benchmarks/throughput_mode.py --export models/msra-bigram-ir --data-dir ../shared/data/msra

Tags the first ``--sentences`` MSRA test sentences with batch size 16 in each mode and precision
(best of ``--repeats``), checks that both modes give the same tags, and writes
``benchmarks/results/throughput_mode.json``. ``--smoke`` runs it once on 64 sentences with a tiny
model's export (a test of the script, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bilstm_crf_ner.corpus import msra_files, read_conll
from bilstm_crf_ner.runtime import Tagger

import _smoke as smoke


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", default=None, help="an exported model folder (required unless --smoke)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="benchmarks/results/throughput_mode.json")
    args = smoke.parse_args(parser, argv, sentences=smoke.SENTENCES, repeats=1)
    if args.export is None:
        if not args.smoke:
            parser.error("--export is required")
        args.export = str(smoke.tiny_export(args.data_dir))
    sentences = read_conll(msra_files(args.data_dir)["test"])[0][: args.sentences]
    rows = []
    for precision in ("f32", "bf16"):
        tags = {}
        for throughput in (False, True):
            tagger = Tagger.load(args.export, backend="openvino", precision=precision, throughput_mode=throughput)
            tagger.predict(sentences[:100], batch_size=16)
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                tags[throughput] = tagger.predict(sentences, batch_size=16)
                best = min(best, time.perf_counter() - start)
            rows.append({"precision": precision, "mode": "throughput" if throughput else "latency", "seconds": best,
                         "sentences_per_second": len(sentences) / best})
            print(rows[-1], flush=True)
        rows[-1]["same_tags_as_latency_mode"] = tags[True] == tags[False]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"export": args.export, "cpus": os.cpu_count(), "rows": rows}, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
