"""Tag text with a saved or exported model.

examples:
  echo "中共中央致中国致公党十一大的贺词" | bilstm-crf-ner predict models/msra
  bilstm-crf-ner predict ir/ news.txt --output entities.jsonl
  bilstm-crf-ner predict ir/ news.txt --format conll > tagged.conll
  bilstm-crf-ner predict ir/ tokens.conll --input-format conll --format conll
  bilstm-crf-ner predict ir/ raw.txt --format label-studio > preannotated.json

Input (a file, or stdin with -): one raw text per line (--input-format text), or a column
file whose first column is the token, blank line between sentences (--input-format conll).
Output: JSON lines, one per input, {"text" or "tokens", "entities": [{type, start, end,
text, confidence}]} (--format entities; start/end are character offsets for text lines and
token indices for token input), or "token tag" lines with a blank line between sentences
(--format conll). Every input line gets an output, empty lines included.

Pre-annotations for annotation tools (text input only; docs/data.md): --format label-studio
(a JSON list of tasks with "predictions", Label Studio's import format; --from-name,
--to-name, --text-key, --model-version), doccano (JSON lines, "label": [[start, end, type]])
or jsonl ({"text", "entities": [{start, end, type, text, confidence}]}).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.tags import SCHEMES
from .common import (
    UsageError, add_engine_options, add_label_studio_options, load_tagger, output_stream, read_text, token_sentences,
)

NAME = "predict"
HELP = "tag raw text lines or CoNLL tokens; write entities (JSON lines), tags (CoNLL) or pre-annotations"
SPAN_OUTPUTS = ("label-studio", "doccano", "jsonl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a saved model folder or an exported folder")
    parser.add_argument("input", nargs="?", default="-", help="input file (default: stdin)")
    parser.add_argument("--input-format", choices=("text", "conll"), default="text")
    parser.add_argument("--format", choices=("entities", "conll", *SPAN_OUTPUTS), default="entities",
                        help="output format (label-studio, doccano, jsonl: pre-annotations to import into the tool)")
    parser.add_argument("--tag-scheme", choices=SCHEMES, default=None,
                        help="scheme of --format conll tags (default: the training data's)")
    parser.add_argument("--output", default="-", help="output file (default: stdout)")
    parser.add_argument("--batch-size", type=int, default=64)
    add_engine_options(parser)
    add_label_studio_options(parser)
    parser.add_argument("--model-version", default=None,
                        help="--format label-studio: the predictions' model_version (default: the model folder's name)")


def run(args) -> int:
    if args.format in SPAN_OUTPUTS and args.input_format != "text":
        raise UsageError(f"--format {args.format} writes character offsets into raw text: use --input-format text")
    lines = read_text(args.input)
    inputs = token_sentences(lines) if args.input_format == "conll" else lines
    tagger = load_tagger(args.model, args.backend, args.precision, static_shapes=args.static_shapes,
                             streams=args.streams)
    progress = not args.quiet
    with output_stream(args.output) as out:
        if args.format in SPAN_OUTPUTS:
            from ..corpus.spans import dumps_spans

            results = tagger.predict_entities(inputs, batch_size=args.batch_size, progress=progress)
            options = {}
            if args.format == "label-studio":
                options = {"text_key": args.text_key, "from_name": args.from_name or "label",
                           "to_name": args.to_name or "text",
                           "model_version": args.model_version or Path(args.model).resolve().name}
            out.write(dumps_spans(inputs, results, args.format, **options))
        elif args.format == "entities":
            results = tagger.predict_entities(inputs, batch_size=args.batch_size, progress=progress)
            key = "tokens" if args.input_format == "conll" else "text"
            for item, entities in zip(inputs, results):
                out.write(json.dumps({key: item, "entities": [e.to_dict() for e in entities]}, ensure_ascii=False) + "\n")
        else:
            tags = tagger.predict(inputs, batch_size=args.batch_size, tag_scheme=args.tag_scheme, progress=progress)
            for item, sentence_tags in zip(inputs, tags):
                tokens = item if isinstance(item, list) else tagger.tokenize(item)[0]
                out.writelines(f"{token} {tag}\n" for token, tag in zip(tokens, sentence_tags))
                out.write("\n")
    return 0
