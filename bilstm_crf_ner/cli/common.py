"""What the subcommands share: loading a model of either kind, reading inputs, writing outputs."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path

from ..core.errors import BilstmCrfNerError, ModelLoadError
from ..core.fileio import atomic_file
from ..runtime.backends import BACKENDS, PRECISIONS

logger = logging.getLogger(__name__)


class UsageError(BilstmCrfNerError):
    """A command-line mistake: printed as one line, exit status 2."""


def load_tagger(path, backend: str | None = None, precision: str | None = None, static_shapes: bool | None = None,
                streams: int | None = None):
    """A saved :class:`~bilstm_crf_ner.BLSTMCRFModel` folder (imports TensorFlow) or an exported
    folder (:class:`~bilstm_crf_ner.runtime.Tagger`, TensorFlow-free), told apart by their files."""
    from ..runtime.layout import METADATA_FILE

    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"model folder not found: {path}")
    if (path / METADATA_FILE).is_file():
        from ..runtime import Tagger

        return Tagger.load(path, backend=backend, precision=precision, static_shapes=static_shapes, streams=streams)
    if backend or precision:
        raise UsageError(f"{path} is a saved Keras model; --backend/--precision apply to exported folders")
    from ..keras.model import CONFIG_FILE, BLSTMCRFModel

    if not (path / CONFIG_FILE).is_file():
        raise ModelLoadError(f"{path} is neither a saved model ({CONFIG_FILE}) nor an exported one ({METADATA_FILE})")
    return BLSTMCRFModel.load(path)


def read_text(source: str) -> list[str]:
    """Lines of a UTF-8 file, or of stdin for ``-`` (line ends stripped, empty lines kept)."""
    if source == "-":
        return sys.stdin.read().splitlines()
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def token_sentences(lines: list[str], column: int = 0) -> list[list[str]]:
    """Sentences of a column file read from ``lines``: the ``column``-th field of each line,
    blank lines between sentences (tags, if present, are ignored)."""
    sentences, tokens = [], []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            if tokens:
                sentences.append(tokens)
                tokens = []
            continue
        if fields[0] == "-DOCSTART-":
            continue
        try:
            tokens.append(fields[column])
        except IndexError:
            raise UsageError(f"line {number}: no column {column} in {line!r}") from None
    if tokens:
        sentences.append(tokens)
    return sentences


@contextlib.contextmanager
def output_stream(target: str | None):
    """stdout, or a file written atomically (replaced only when the command succeeds)."""
    if target in (None, "-"):
        yield sys.stdout
        return
    with atomic_file(target) as handle:
        yield handle


def output_json(path: str, data) -> None:
    """``data`` as indented JSON to a file (atomically) or to stdout for ``-``."""
    with output_stream(path) as handle:
        handle.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, not {number}")
    return number


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="exported folders only (default: the backend the export measured fastest)")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="exported folders only (default: the one recorded at export)")
    parser.add_argument("--static-shapes", action="store_true",
                        help="OpenVINO: compile per batch shape (pays off in long runs only; a one-off command "
                             "uses dynamic shapes by default, whatever the export recorded)")
    parser.add_argument("--streams", type=positive_int, default=None,
                        help="OpenVINO: split each batch's rows across this many CPU streams (1: off; default: "
                             "as the export recorded for its default engine)")


# Span-annotated inputs (docs/data.md): --format for train/evaluate, Label Studio options for all three.

def add_label_studio_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Label Studio")
    group.add_argument("--text-key", default="text", help="the task's data key holding the text (default text)")
    group.add_argument("--from-name", default=None,
                       help="name of the <Labels> control (reading: default any; writing: default label)")
    group.add_argument("--to-name", default=None,
                       help="name of the <Text> object (reading: default any; writing: default text)")


def add_span_input_options(parser: argparse.ArgumentParser) -> None:
    """``--format`` of labelled input files and the span-reading policies."""
    from ..corpus.spans import BOUNDARY_RULES, FORMATS, OVERLAP_POLICIES

    group = parser.add_argument_group("input format")
    group.add_argument("--format", default="auto", choices=("auto", "conll", *FORMATS),
                       help="format of the labelled files (default auto: .json/.jsonl/.ann files and BRAT folders are "
                            "recognized by their content, anything else is read as CoNLL columns)")
    group.add_argument("--overlaps", default="refuse", choices=OVERLAP_POLICIES,
                       help="overlapping or nested spans: refuse (error naming file and record) or keep the longest")
    group.add_argument("--boundary", default="expand", choices=BOUNDARY_RULES,
                       help="a span edge inside a token (word models): widen to whole tokens (reported) or refuse")
    add_label_studio_options(parser)


def input_format(path, requested: str = "auto") -> str:
    """``"conll"`` or the span format of ``path`` (``requested`` unless it is ``"auto"``)."""
    from ..core.errors import CorpusFormatError
    from ..corpus.spans import SPAN_SUFFIXES, detect_format

    if requested != "auto":
        return requested
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file not found: {path}")
    sniff = (path.is_dir() or path.suffix in SPAN_SUFFIXES
             or (path.suffix == ".txt" and path.with_suffix(".ann").is_file()))
    detected = detect_format(path) if sniff else None
    if detected is None and path.suffix in (".json", ".jsonl"):
        raise CorpusFormatError(path, 1, "not a span format this library reads (doccano, label-studio, cluener, "
                                         "jsonl); pass --format")
    return detected or "conll"


def read_span_file(path, format: str, args):
    """``(texts, entities)`` of a span file with the command's --overlaps and Label Studio options."""
    from ..corpus.spans import read_spans

    options = {}
    if format == "label-studio":
        options = {"text_key": args.text_key, "from_name": args.from_name, "to_name": args.to_name}
    return read_spans(path, format=format, overlaps=args.overlaps, **options)


def guess_token_unit(texts) -> str:
    """``"word"`` when at least half of the non-empty texts contain whitespace, else ``"char"``."""
    texts = [t for t in texts if t.strip()]
    spaced = sum(1 for t in texts if len(t.split()) > 1)
    return "word" if texts and 2 * spaced >= len(texts) else "char"


def drop_untokenized(x, y, path):
    """Pairs with at least one token (a text of only whitespace has nothing to tag), the rest counted in the log."""
    kept = [(tokens, tags) for tokens, tags in zip(x, y) if tokens]
    if len(kept) < len(x):
        logger.warning("%s: %d text(s) without any token left out", path, len(x) - len(kept))
    return [t for t, _ in kept], [g for _, g in kept]
