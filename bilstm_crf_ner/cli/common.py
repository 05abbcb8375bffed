"""What the subcommands share: loading a model of either kind, reading inputs, writing outputs."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from ..core.errors import BilstmCrfNerError, ModelLoadError


class UsageError(BilstmCrfNerError):
    """A command-line mistake: printed as one line, exit status 2."""


def load_tagger(path, backend: str | None = None, precision: str | None = None, static_shapes: bool | None = None):
    """A saved :class:`~bilstm_crf_ner.BLSTMCRFModel` folder (imports TensorFlow) or an exported
    folder (:class:`~bilstm_crf_ner.runtime.Tagger`, TensorFlow-free), told apart by their files."""
    from ..runtime.layout import METADATA_FILE

    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"model folder not found: {path}")
    if (path / METADATA_FILE).is_file():
        from ..runtime import Tagger

        return Tagger.load(path, backend=backend, precision=precision, static_shapes=static_shapes)
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
    path = Path(target)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            yield handle
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str, data) -> None:
    with output_stream(path) as handle:
        handle.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("openvino", "onnxruntime"), default=None,
                        help="exported folders only (default: the backend the export measured fastest)")
    parser.add_argument("--precision", choices=("f32", "bf16", "int8"), default=None,
                        help="exported folders only (default: the one recorded at export)")
    parser.add_argument("--static-shapes", action="store_true",
                        help="OpenVINO: compile per batch shape (pays off in long runs only; a one-off command "
                             "uses dynamic shapes by default, whatever the export recorded)")
