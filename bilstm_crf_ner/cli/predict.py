"""Tag text with a saved or exported model.

examples:
  echo "中共中央致中国致公党十一大的贺词" | bilstm-crf-ner predict models/msra
  bilstm-crf-ner predict ir/ news.txt --output entities.jsonl
  bilstm-crf-ner predict ir/ news.txt --format conll > tagged.conll
  bilstm-crf-ner predict ir/ tokens.conll --input-format conll --format conll

Input (a file, or stdin with -): one raw text per line (--input-format text), or a column
file whose first column is the token, blank line between sentences (--input-format conll).
Output: JSON lines, one per input, {"text" or "tokens", "entities": [{type, start, end,
text, confidence}]} (--format entities; start/end are character offsets for text lines and
token indices for token input), or "token tag" lines with a blank line between sentences
(--format conll). Every input line gets an output, empty lines included.
"""

from __future__ import annotations

import argparse
import json

from .common import add_engine_options, load_tagger, output_stream, read_text, token_sentences

NAME = "predict"
HELP = "tag raw text lines or CoNLL tokens; write entities (JSON lines) or tags (CoNLL)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a saved model folder or an exported folder")
    parser.add_argument("input", nargs="?", default="-", help="input file (default: stdin)")
    parser.add_argument("--input-format", choices=("text", "conll"), default="text")
    parser.add_argument("--format", choices=("entities", "conll"), default="entities", help="output format")
    parser.add_argument("--tag-scheme", choices=("BIO", "BIOES", "IOB1", "BMES"), default=None,
                        help="scheme of --format conll tags (default: the training data's)")
    parser.add_argument("--output", default="-", help="output file (default: stdout)")
    parser.add_argument("--batch-size", type=int, default=64)
    add_engine_options(parser)


def run(args) -> int:
    lines = read_text(args.input)
    inputs = token_sentences(lines) if args.input_format == "conll" else lines
    tagger = load_tagger(args.model, args.backend, args.precision, static_shapes=args.static_shapes)
    progress = not args.quiet
    with output_stream(args.output) as out:
        if args.format == "entities":
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
