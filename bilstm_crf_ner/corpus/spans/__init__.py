"""Span-annotated corpora (character offsets into raw text), read and written, TensorFlow-free.

Formats (:data:`FORMATS`): ``"doccano"`` (JSON lines, ``label: [[start, end, type]]``),
``"label-studio"`` (JSON export / pre-annotation import), ``"cluener"`` (CLUENER2020 JSON
lines, inclusive ends), ``"brat"`` (folder of ``.txt`` + ``.ann``) and ``"jsonl"`` (``entities:
[{start, end, type}]``, what ``predict_entities`` returns). Offsets are Python string indices
(code points), end exclusive, in every API; the readers and writers convert. See docs/data.md.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "admin.jsonl")
>>> write_spans(path, ["张三在北京"], [[(0, 2, "PER"), (3, 5, "LOC")]], format="doccano")
>>> texts, entities = read_spans(path)            # format detected from the content
>>> entities
[[Span(start=0, end=2, type='PER'), Span(start=3, end=5, type='LOC')]]
>>> spans_to_tags(texts, entities)               # model.fit(*spans_to_tags(texts, entities))
([['张', '三', '在', '北', '京']], [['B-PER', 'I-PER', 'O', 'B-LOC', 'I-LOC']])
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Sequence

from ...core.errors import CorpusFormatError, InputError
from . import brat, cluener, doccano, jsonl, label_studio
from .convert import BOUNDARY_RULES, SpanAlignment, align_spans, spans_to_tags, tags_to_spans
from .records import OVERLAP_POLICIES, Span, as_span, bad_type, resolve_overlaps, summarize, write_atomic

#: format name -> module with ``read(path, **options)`` and ``render(...)`` (``write`` for folders).
FORMATS = {module.NAME: module for module in (doccano, label_studio, cluener, brat, jsonl)}
#: Formats that :func:`dumps_spans` can render as one text (all but the BRAT folder).
TEXT_FORMATS = tuple(name for name, module in FORMATS.items() if hasattr(module, "render"))
#: File name endings that :func:`detect_format` inspects (anything else is taken for CoNLL by the CLI).
SPAN_SUFFIXES = (".json", ".jsonl", ".ann")


def detect_format(path) -> str | None:
    """The span format of ``path`` from its content (``None`` if it is none of them).

    A folder with ``.ann`` files, or an ``.ann`` file, is BRAT; a JSON list or a task object with
    ``data`` is Label Studio; otherwise the first JSON line decides: ``entities`` -> jsonl,
    a ``label`` object -> cluener, a ``label``/``labels`` list -> doccano.
    """
    path = Path(path)
    if path.is_dir():
        return "brat" if any(path.glob("*.ann")) else None
    if path.suffix == ".ann" or (path.suffix == ".txt" and path.with_suffix(".ann").is_file()):
        return "brat"
    if not path.is_file():
        raise FileNotFoundError(f"span file not found: {path}")
    with open(path, "rb") as handle:
        first = b""
        for raw in handle:  # the first non-blank line (a minified Label Studio export is one long line)
            first = raw.decode("utf-8", errors="ignore").lstrip("\ufeff").strip()
            if first:
                break
    if first.startswith("["):
        return "label-studio"
    if not first.startswith("{"):
        return None
    try:
        obj = json.loads(first)
    except ValueError:  # a pretty-printed single object
        try:
            obj = json.loads(path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            return None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("data"), dict) and any(k in obj for k in ("annotations", "predictions", "completions")):
        return "label-studio"
    if "entities" in obj:
        return "jsonl"
    if isinstance(obj.get("label"), dict):
        return "cluener"
    if isinstance(obj.get("label", obj.get("labels")), list):
        return "doccano"
    return None


def _format(path, format):
    if format is None:
        format = detect_format(path)
        if format is None:
            raise CorpusFormatError(path, 1, f"cannot tell the span format; pass format= one of {', '.join(FORMATS)}")
    if format not in FORMATS:
        raise InputError(f"unknown span format {format!r}; expected one of {', '.join(FORMATS)}")
    return format


def read_spans(path, format: str | None = None, overlaps: str = "refuse", **options):
    """Read a span file into ``(texts, entities)``: raw strings and, per text, a list of
    :class:`Span` ``(start, end, type)`` sorted by start.

    Args:
        path: a file (a folder or ``.ann`` file for BRAT).
        format: one of :data:`FORMATS`; ``None`` detects it (:func:`detect_format`).
        overlaps: ``"refuse"`` (default) raises :class:`CorpusFormatError` on overlapping or nested
            spans, which a linear-chain CRF cannot tag; ``"longest"`` keeps the longest of each
            overlapping group and logs what it dropped.
        options: Label Studio only: ``text_key`` (default ``"text"``), ``from_name``, ``to_name``
            (default: any ``labels`` result).

    Every malformed record raises :class:`CorpusFormatError` naming the file and the line (task
    for Label Studio, ``.ann`` line for BRAT); a summary (records, entities per type) is logged.
    """
    format = _format(path, format)
    if overlaps not in OVERLAP_POLICIES:
        raise ValueError(f"overlaps must be one of {OVERLAP_POLICIES}, not {overlaps!r}")
    module = FORMATS[format]
    accepted = [name for name in inspect.signature(module.read).parameters if name != "path"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"format {format!r} takes no option {', '.join(unknown)} (its options: {accepted or 'none'})")
    records = module.read(path, **options)
    texts, entities = [], []
    for record in records:
        texts.append(record.text)
        entities.append(resolve_overlaps(record.spans, overlaps, record.source or path, record.where))
    summarize(path, format, records)
    return texts, entities


def dumps_spans(texts: Sequence[str], entities: Sequence[Sequence], format: str, **options) -> str:
    """The text of a span file in ``format`` (any of :data:`TEXT_FORMATS`); see :func:`write_spans`."""
    if format not in TEXT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(TEXT_FORMATS)} here, not {format!r}")
    _check(texts, entities)
    return FORMATS[format].render(texts, entities, **options)


def _check(texts, entities):
    if len(texts) != len(entities):
        raise InputError(f"{len(texts)} texts but {len(entities)} entity lists")

    for i, (text, items) in enumerate(zip(texts, entities)):
        if not isinstance(text, str):
            raise InputError(f"text {i} must be a string, got {type(text).__name__}")
        for item in items:
            span = as_span(item)
            if not 0 <= span.start < span.end <= len(text) or bad_type(span.type):
                raise InputError(f"text {i}: span {tuple(span)} is out of range or has a bad type")


def write_spans(path, texts: Sequence[str], entities: Sequence[Sequence], format: str, **options) -> None:
    """Write ``texts`` and their entities (``Span``/``(start, end, type)`` tuples, ``Entity``
    objects or dicts; confidences are kept by ``jsonl`` and ``label-studio``) in ``format``.

    Atomic: a temporary file beside ``path`` replaces it at the end (BRAT: a folder of
    ``.txt``/``.ann`` pairs swapped in whole). Options: Label Studio ``text_key``,
    ``from_name`` (``"label"``), ``to_name`` (``"text"``), ``model_version``; BRAT ``names``.
    """
    if format not in FORMATS:
        raise InputError(f"unknown span format {format!r}; expected one of {', '.join(FORMATS)}")
    _check(texts, entities)
    if format == "brat":
        brat.write(path, texts, entities, **options)
    else:
        write_atomic(path, FORMATS[format].render(texts, entities, **options))


__all__ = ["BOUNDARY_RULES", "FORMATS", "OVERLAP_POLICIES", "SPAN_SUFFIXES", "Span", "SpanAlignment", "TEXT_FORMATS",
           "align_spans", "detect_format", "dumps_spans", "read_spans", "spans_to_tags", "tags_to_spans", "write_spans"]
