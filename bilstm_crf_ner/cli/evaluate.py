"""Score a saved or exported model on a labelled CoNLL file, span file (or the MSRA test set).

examples:
  bilstm-crf-ner evaluate models/msra ../shared/data/msra/test.bio
  bilstm-crf-ner evaluate ir/ ../shared/data/msra --backend onnxruntime --json report.json
  bilstm-crf-ner evaluate models/shop gold.jsonl --format doccano

Span files (--format doccano|label-studio|cluener|brat|jsonl, detected by default) are
tokenized with the model's own tokenizer, so the report equals that of the equivalent CoNLL file.

Prints seqeval's entity-level report (precision, recall, F1 per type and overall) and a
summary of the entity errors: missed, spurious, wrong type, wrong boundary, both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..corpus.conll import msra_files, read_conll
from .common import (
    UsageError, add_engine_options, add_span_input_options, drop_untokenized, input_format, load_tagger, read_span_file,
    output_json,
)

NAME = "evaluate"
HELP = "print the entity report and error summary of a model on labelled data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a saved model folder or an exported folder")
    parser.add_argument("data", help="CoNLL file with gold tags, a span file or BRAT folder (see --format), "
                                     "or an MSRA folder (its test.bio)")
    parser.add_argument("--token-column", type=int, default=0)
    parser.add_argument("--tag-column", type=int, default=-1)
    parser.add_argument("--max-sentences", type=int, default=None, help="score the first N sentences only")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    add_engine_options(parser)
    add_span_input_options(parser)


def run(args) -> int:
    path = Path(args.data)
    fmt = input_format(path, args.format)
    tagger = None
    if fmt == "conll":
        path = msra_files(path)["test"] if path.is_dir() else path
        x, y = read_conll(path, token_column=args.token_column, tag_column=args.tag_column)
        if args.max_sentences:
            x, y = x[: args.max_sentences], y[: args.max_sentences]
    else:
        from ..corpus.spans import spans_to_tags

        texts, entities = read_span_file(path, fmt, args)
        if args.max_sentences:
            texts, entities = texts[: args.max_sentences], entities[: args.max_sentences]
        if texts:  # the model's tokenizer decides the tokens, as for raw strings given to predict
            tagger = load_tagger(args.model, args.backend, args.precision, static_shapes=args.static_shapes,
                             streams=args.streams)
            x, y = drop_untokenized(*spans_to_tags(texts, entities, token_unit=tagger.tokenize, boundary=args.boundary),
                                    path)
        else:
            x = []
    if not x:
        raise UsageError(f"{path} has no sentences")
    if tagger is None:
        tagger = load_tagger(args.model, args.backend, args.precision, static_shapes=args.static_shapes,
                             streams=args.streams)
    report = tagger.evaluate(x, y, batch_size=args.batch_size, progress=not args.quiet)
    print(f"{path} ({len(x)} sentences):")
    print(report)
    print(f"entity F1: {report.f1 * 100:.2f}")
    if args.json:
        output_json(args.json, {"data": str(path), "sentences": len(x), **report.to_dict()})
    return 0
