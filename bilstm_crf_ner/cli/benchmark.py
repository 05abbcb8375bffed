"""Time an exported model on every available engine: same inputs, same process, one run.

examples:
  bilstm-crf-ner benchmark ir/ --data ../shared/data/msra/test.bio
  bilstm-crf-ner benchmark ir/ --data news.txt --engines openvino:bf16,onnxruntime:f32 --json speed.json
  bilstm-crf-ner benchmark ir/ --data ../shared/data/msra --keras models/msra

For each engine (backend:precision): load time, model-only and end-to-end time of a
16 x 128 batch (the longest texts of --data cut to 128 characters; all engines take turns
within each repeat, as in the bulk run), sentences per second,
the share of tokenization + decoding; the whole of --data (up to --bulk-sentences, mixed
lengths as users send them) tagged by every engine, taking turns --bulk-chunk texts at a time,
as sentences and characters per second, with the share of it not spent in the model (tokenization, feature encoding, decoding);
batch-1 latency p50 / p99 over --latency-sentences single texts; with labelled data (a
CoNLL file or MSRA folder) also entity F1 and tag agreement with the first engine on
--eval-sentences. The fastest engine that is not exact (bf16, INT8) is named when it beats
the default.
--keras MODEL adds the saved Keras model as the first engine (imports TensorFlow). Peak
memory per engine needs one process per engine: benchmarks/runtime_speed.py does that.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from ..corpus.conll import msra_files, read_conll
from ..core.errors import CorpusFormatError
from .common import UsageError, load_tagger, output_json, read_text

NAME = "benchmark"
HELP = "time an exported model on OpenVINO / ONNX Runtime (and Keras)"
logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="an exported folder")
    parser.add_argument("--data", required=True, help="CoNLL file, MSRA folder (test.bio) or text file (one text per line)")
    parser.add_argument("--engines", default=None,
                        help="comma-separated backend:precision[:static][:streams] list, e.g. openvino:int8_bf16:static:streams "
                             "(streams: each batch's rows split across one single-threaded stream per core); default: every "
                             "one this machine and export support, OpenVINO with and without static shapes, and the default "
                             "engine with row streams where the export chose them")
    parser.add_argument("--keras", metavar="MODEL", help="also time this saved Keras model (first in the table)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128, help="characters per benchmark text")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--statistic", choices=("median", "min"), default="median",
                        help="16 x 128 and batch-1 times: the median of --repeats, or the fastest round "
                             "(speed-ups are round-by-round ratios either way)")
    parser.add_argument("--eval-sentences", type=int, default=500, help="labelled sentences scored per engine (0: none)")
    parser.add_argument("--bulk-sentences", type=int, default=5000,
                        help="also tag the first N texts of --data (mixed lengths) with every engine in turn (0: skip)")
    parser.add_argument("--bulk-rounds", type=int, default=2, help="rounds of the bulk run (best is kept)")
    parser.add_argument("--bulk-chunk", type=int, default=256,
                        help="texts per turn in the bulk run: engines take turns chunk by chunk, and the bulk "
                             "speed-up is the median of the chunk-by-chunk ratios to the first engine")
    parser.add_argument("--latency-sentences", type=int, default=200,
                        help="batch-1 latency p50 / p99 over this many single texts (0: skip)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")


def _data(source):
    path = Path(source)
    if path.is_dir():
        path = msra_files(path)["test"]
    try:
        x, y = read_conll(path)
    except CorpusFormatError:
        return [line for line in read_text(str(path)) if line.strip()], None, None
    joiner = "" if all(len(token) == 1 for sentence in x[:50] for token in sentence) else " "
    return [joiner.join(sentence) for sentence in x], x, y


def _metadata(args):
    from ..core.fileio import read_json
    from ..runtime.layout import METADATA_FILE

    return read_json(Path(args.model) / METADATA_FILE, "an exported bilstm_crf_ner model")


def _engines(args):
    """``(backend, precision, static_shapes, streams)`` per engine to time: ``--engines``, else
    every engine this machine and export support (OpenVINO with and without static shapes) and
    the default engine with its row streams where the export chose them."""
    import os

    from ..runtime.backends import PRECISIONS, available_engines, default_engine, default_streams

    metadata = _metadata(args)
    if args.engines:
        engines = []
        for item in args.engines.split(","):
            parts = item.strip().split(":")
            backend, precision, flags = parts[0], (parts[1:2] or ["f32"])[0] or "f32", [f for f in parts[2:] if f]
            if precision not in PRECISIONS:
                raise UsageError(f"engine {item!r}: the precision is one of {', '.join(PRECISIONS)}, not {precision!r}")
            unknown = set(flags) - {"static", "streams"}
            if unknown or len(flags) != len(set(flags)):
                raise UsageError(f"engine {item!r}: the fields after the precision can only be 'static' and 'streams'")
            if flags and backend != "openvino":
                raise UsageError(f"engine {item!r}: static shapes and row streams are OpenVINO settings")
            engines.append((backend, precision, "static" in flags,
                            (os.cpu_count() or 1) if "streams" in flags else 1))
        return engines
    engines = [(b, p, static, 1) for b, p in available_engines(metadata)
               for static in ((False, True) if b == "openvino" else (False,))]
    streams, default = default_streams(metadata), default_engine(metadata)
    if streams > 1 and default[:2] in available_engines(metadata):  # an export made on another CPU may not run here
        engines.append((*default, streams))
    return engines


def run(args) -> int:
    from ..runtime.backends import default_engine, default_streams
    from ..runtime.benchmark import bulk_seconds, latency_ms, measure_many, paired_speedup

    if args.bulk_chunk < 1:
        raise UsageError("--bulk-chunk must be at least 1")
    texts, x, y = _data(args.data)
    if not texts:
        raise UsageError(f"{args.data} has no text to benchmark on")
    engines = ([("keras", "f32", False, 1)] if args.keras else []) + _engines(args)
    metadata = _metadata(args)
    default = (*default_engine(metadata), default_streams(metadata))
    taggers, results = {}, []
    for backend, precision, static, streams in engines:
        start = time.perf_counter()
        if backend == "keras":
            tagger = load_tagger(args.keras)
        else:
            openvino = backend == "openvino"
            tagger = load_tagger(args.model, backend, precision, static if openvino else None, streams if openvino else None)
        # the streams the engine runs (at most one per inference thread), not the count asked for
        row = {"engine": backend, "precision": precision, "static_shapes": static,
               "streams": int(getattr(getattr(tagger, "backend", None), "streams", 1)), "load_s": time.perf_counter() - start,
               "default": (backend, precision, static if backend == "openvino" else False, streams) == default}
        taggers[len(results)] = tagger
        results.append(row)
    # All engines take turns within each repeat, so a slow spell of a shared machine hits them alike.
    for row, timed in zip(results, measure_many(list(taggers.values()), texts, args.batch_size, args.max_length,
                                                args.repeats, args.statistic)):
        row.update(timed)
    for row in results:  # round by round against the first engine (Keras with --keras)
        row["speedup_paired"] = paired_speedup(results[0]["end_to_end_rounds_ms"], row["end_to_end_rounds_ms"])
    if not args.quiet:
        logger.info("%d engines timed on a %d x %d batch, in turns", len(results), args.batch_size, args.max_length)
    bulk = texts[: args.bulk_sentences] if args.bulk_sentences else []
    if bulk:  # all engines in turn on the same mixed-length texts, as users send them
        timed = bulk_seconds(taggers, bulk, rounds=args.bulk_rounds, chunk_size=args.bulk_chunk)
        characters = sum(len(t) for t in bulk)
        for i, row in enumerate(results):
            total, model = timed[i]["seconds"], timed[i]["model_seconds"]
            row.update(bulk_s=total, bulk_model_s=model, bulk_tokenize_decode_share=max(0.0, 1 - model / total),
                       bulk_sentences=len(bulk), bulk_sentences_per_s=len(bulk) / total,
                       bulk_chars_per_s=characters / total, bulk_chunk_s=timed[i]["chunk_seconds"],
                       bulk_speedup_paired=paired_speedup(timed[0]["chunk_seconds"], timed[i]["chunk_seconds"]))
    for i, row in enumerate(results):
        if args.latency_sentences:
            row["latency_ms"] = latency_ms(taggers[i], texts, args.latency_sentences)
    if y is not None and args.eval_sentences:
        _score(results, taggers, x, y, args)
    _print_table(results, args)
    _name_faster_inexact(results)
    if args.json:
        import os

        output_json(args.json, {"model": args.model, "data": args.data, "cpus": os.cpu_count(), "cpu": cpu_name(),
                                "statistic": args.statistic, "results": results})
    return 0


def _score(results, taggers, x, y, args) -> None:
    from ..core.evaluation import entity_report
    from ..core.inference import to_scheme
    from ..core.tags import detect_scheme

    gold = to_scheme(y[: args.eval_sentences], detect_scheme(y), "BIO", str(args.data))
    reference = None
    for i, row in enumerate(results):
        tags = taggers[i].predict(x[: args.eval_sentences], tag_scheme="BIO")
        row["f1"] = entity_report(gold, tags).f1
        if reference is None:
            reference = tags
        else:
            pairs = [(a, b) for s, t in zip(reference, tags) for a, b in zip(s, t)]
            row["token_agreement"] = sum(a == b for a, b in pairs) / max(1, len(pairs))


def _name_faster_inexact(results) -> None:
    """Say which non-exact engine (bf16, INT8) beats the default, with its measured agreement, so
    users opt in knowingly; engines that change more than ``1 - MIN_DEFAULT_AGREEMENT`` of the first
    engine's tags are not recommended (the table shows them)."""
    from ..runtime.backends import MIN_DEFAULT_AGREEMENT

    key = "bulk_s" if "bulk_s" in results[0] else "end_to_end_ms"
    default = next((r for r in results if r.get("default")), None)
    if default is None:
        return
    faster = [r for r in results if r["precision"] != "f32" and r[key] < default[key] and not r.get("default")
              and r.get("token_agreement", 1.0) >= MIN_DEFAULT_AGREEMENT]
    if faster:
        best = min(faster, key=lambda r: r[key])
        agreement = f", {100 * best['token_agreement']:.2f}% of tags equal the first engine's" if "token_agreement" in best else ""
        settings = (f", static_shapes=True" if best["static_shapes"] else "") + \
            (f", streams={best['streams']}" if best.get("streams", 1) > 1 else "")
        print(f"faster but not exact: {best['engine']} {best['precision']}{' static' if best['static_shapes'] else ''}"
              f"{' with %d row streams' % best['streams'] if best.get('streams', 1) > 1 else ''} "
              f"({default[key] / best[key]:.2f}x the default{agreement}); load it with "
              f"Tagger.load(path, backend={best['engine']!r}, precision={best['precision']!r}{settings})")


def cpu_name() -> str:
    """The CPU model as the OS names it (benchmark figures are only comparable on one CPU)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def _print_table(results, args):
    bulk = "bulk_s" in results[0]
    statistic = "medians" if args.statistic == "median" else "fastest"
    print(f"batch {args.batch_size} x {args.max_length} characters, {statistic} of {args.repeats} runs in turns "
          "(speedup: median of the round-by-round ratios to the first engine)"
          + (f"; bulk: {results[0]['bulk_sentences']} texts of --data in turns of {args.bulk_chunk}, best of "
             f"{args.bulk_rounds} (bulk x: median of the chunk-by-chunk ratios)" if bulk else "")
          + "; * = the engine Tagger.load picks by default; /st = static shapes, /sN = N row streams")
    print(f"{'engine':12} {'prec':16} {'load s':>7} {'model ms':>9} {'e2e ms':>8} {'sent/s':>8} {'tok+dec':>7} "
          f"{'speedup':>7} {'bulk s/s':>9} {'bulk x':>7} {'tok+dec':>7} {'p50 ms':>7} {'p99 ms':>7} {'F1':>7} {'agree':>7}")
    for r in results:
        f1 = f"{100 * r['f1']:.2f}" if "f1" in r else "-"
        agree = f"{100 * r['token_agreement']:.2f}" if "token_agreement" in r else "-"
        bulk_rate = f"{r['bulk_sentences_per_s']:9.1f}" if bulk else f"{'-':>9}"
        bulk_speedup = f"{r['bulk_speedup_paired']:6.2f}x" if bulk else f"{'-':>7}"
        bulk_share = f"{100 * r['bulk_tokenize_decode_share']:6.1f}%" if bulk else f"{'-':>7}"
        latency = r.get("latency_ms") or {}
        p50 = f"{latency['p50']:7.2f}" if latency else f"{'-':>7}"
        p99 = f"{latency['p99']:7.2f}" if latency else f"{'-':>7}"
        precision = r['precision'] + ('/st' if r['static_shapes'] else '') + (f"/s{r['streams']}" if r.get('streams', 1) > 1 else '')
        print(f"{r['engine'] + ('*' if r.get('default') else ''):12} {precision:16} "
              f"{r['load_s']:7.2f} {r['model_only_ms']:9.2f} {r['end_to_end_ms']:8.2f} {r['sentences_per_s']:8.1f} "
              f"{100 * r['tokenize_decode_share']:6.1f}% {r['speedup_paired']:6.2f}x {bulk_rate} {bulk_speedup} "
              f"{bulk_share} {p50} {p99} {f1:>7} {agree:>7}")
