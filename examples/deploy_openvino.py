"""Tag text with an exported model on OpenVINO or ONNX Runtime, without TensorFlow.

    python examples/deploy_openvino.py ir/ "今天新发布的小米手机太棒了。" "中共中央致中国致公党十一大的贺词"
    python examples/deploy_openvino.py ir/ --file sentences.txt --tags > tags.jsonl
    cat sentences.txt | python examples/deploy_openvino.py ir/ --backend onnxruntime
    python examples/deploy_openvino.py ir/ --file sentences.txt --benchmark --precision bf16

The folder is one written by ``model.export("ir/")`` (docs/deployment.md). Texts come from the
arguments, else from ``--file`` (``-`` for stdin) or stdin, one text per line (blank lines are
skipped). Each text gives one JSON line: ``{"text", "entities": [{"type", "start", "end", "text",
"confidence"}]}`` with character offsets into the text (end exclusive), or with ``--tags``
``{"text", "tokens", "tags"}`` (tags in the training data's scheme). Lines are read and tagged
``--batch-size`` at a time, so large files stream.

``--benchmark`` prints no tags but times the given texts instead, end to end (tokenizing,
inference, Viterbi, entities; tags only with ``--tags``): the latency of one text per call
(batch 1) and the throughput of one call on all texts in batches of 16 (sentences/s; the texts
are repeated up to at least 16), each the median of ``--repeats`` runs after a warm-up run.
By default the backend is the one the export measured fastest and the precision the recorded one
(f32: the same tags as the Keras model); ``--precision bf16`` or ``int8`` (OpenVINO; int8 needs an
export made with INT8 calibration) may be faster and may change a few tags: measure with
``bilstm-crf-ner benchmark`` (docs/benchmarks.md: on a 2-core Intel Xeon INT8 BERT was faster
and bf16 slower than f32; on an AMD EPYC bf16 was faster).

Only numpy and OpenVINO / ONNX Runtime are imported: this script never loads TensorFlow.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

from bilstm_crf_ner.core.errors import BilstmCrfNerError
from bilstm_crf_ner.runtime import BACKENDS, Tagger
from bilstm_crf_ner.runtime.backends import PRECISIONS
from bilstm_crf_ner.runtime.benchmark import median_ms

BENCHMARK_BATCH = 16


def read_lines(source):
    """Non-blank lines of ``source`` (a file object), without their line ends."""
    for line in source:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def chunks(items, size):
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def tag_lines(tagger, texts, batch_size, tags_only):
    """One JSON-ready dict per text, computed ``batch_size`` texts at a time."""
    for chunk in chunks(texts, batch_size):
        if tags_only:
            for text, tags in zip(chunk, tagger.predict(chunk, batch_size=batch_size)):
                yield {"text": text, "tokens": list(tagger.tokenize(text)[0]), "tags": tags}
        else:
            for text, entities in zip(chunk, tagger.predict_entities(chunk, batch_size=batch_size)):
                yield {"text": text, "entities": [e.to_dict() for e in entities]}


def benchmark(tagger, texts, repeats, tags_only):
    """``[(measure, value, unit)]``: batch-1 latency and batch-16 throughput on ``texts``."""
    tag = tagger.predict if tags_only else tagger.predict_entities  # what the script would print
    latency = median_ms(lambda: [tag([text]) for text in texts], repeats) / 1000 / len(texts)
    batch = texts * -(-BENCHMARK_BATCH // len(texts))  # at least one full batch of 16
    elapsed = median_ms(lambda: tag(batch, batch_size=BENCHMARK_BATCH), repeats) / 1000
    return [("batch-1 latency", latency * 1000, "ms/sentence"),
            (f"batch-{BENCHMARK_BATCH} throughput", len(batch) / elapsed, "sentences/s")]


def print_table(tagger, rows, texts, repeats, tags_only):
    characters = sum(len(t) for t in texts) / len(texts)
    what = "tags" if tags_only else "entities"
    print(f"{tagger.backend.name} {tagger.backend.precision}, {what}: {len(texts)} texts "
          f"({characters:.1f} characters on average), median of {repeats} runs")
    width = max(len(name) for name, _, _ in rows)
    print(f"{'measure':<{width}}  {'value':>10}  unit")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>10.2f}  {unit}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="folder written by model.export()")
    parser.add_argument("texts", nargs="*", help="texts to tag (default: read from --file or stdin)")
    parser.add_argument("--file", default=None, help="read texts from this file, one per line ('-': stdin)")
    parser.add_argument("--backend", choices=BACKENDS, default=None, help="default: the one recorded at export")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="default: the recorded one (f32)")
    parser.add_argument("--threads", type=int, default=None, help="inference threads (default: all cores)")
    parser.add_argument("--tags", action="store_true", help="print tokens and tags instead of entities")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--benchmark", action="store_true", help="time the texts instead of printing their tags")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per benchmark measure")
    args = parser.parse_intermixed_args(argv)  # options may come after the texts
    if args.texts and args.file:
        parser.error("give texts as arguments or with --file, not both")
    if args.batch_size < 1 or args.repeats < 1:
        parser.error("--batch-size and --repeats must be positive")

    folder = Path(args.model)
    if not folder.is_dir():
        parser.exit(2, f"error: {folder} is not a folder (make one with model.export({str(folder)!r}))\n")
    try:
        tagger = Tagger.load(folder, backend=args.backend, precision=args.precision, num_threads=args.threads)
    except BilstmCrfNerError as exc:
        parser.exit(2, f"error: {exc}\n")

    sys.stdin.reconfigure(encoding="utf-8")  # JSON lines in and out are UTF-8 whatever the locale
    sys.stdout.reconfigure(encoding="utf-8")
    source = None
    try:
        if args.texts:
            texts = args.texts
        elif args.file and args.file != "-":
            source = open(args.file, encoding="utf-8")
            texts = read_lines(source)
        else:
            if sys.stdin.isatty():  # typed by hand: answer each line at once
                print("reading texts from stdin, one per line (end with Ctrl-D)", file=sys.stderr)
                args.batch_size = 1
            texts = read_lines(sys.stdin)
        if args.benchmark:
            texts = list(texts)
            if not texts:
                parser.exit(2, "error: --benchmark needs at least one text\n")
            print_table(tagger, benchmark(tagger, texts, args.repeats, args.tags), texts, args.repeats, args.tags)
        else:
            for record in tag_lines(tagger, texts, args.batch_size, args.tags):
                print(json.dumps(record, ensure_ascii=False), flush=True)
    except OSError as exc:  # an unreadable --file
        if isinstance(exc, BrokenPipeError):  # piped into `head` and the like: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        parser.exit(2, f"error: {exc}\n")
    except UnicodeDecodeError as exc:
        parser.exit(2, f"error: {args.file or 'stdin'} is not UTF-8 text: {exc.reason}\n")
    except BilstmCrfNerError as exc:
        parser.exit(2, f"error: {exc}\n")
    finally:
        if source is not None:
            source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
