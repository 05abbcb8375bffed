"""The span record shared by every format, and the checks every reader applies.

A span is ``Span(start, end, type)``: character offsets into the raw text (Python string
indices, i.e. Unicode code points; ``end`` exclusive). It is a named tuple, so plain
``(start, end, type)`` tuples compare equal to it.

>>> Span(0, 2, "PER") == (0, 2, "PER")
True
>>> resolve_overlaps([Span(0, 4, "ORG"), Span(2, 3, "LOC")], "longest", "f.jsonl", 1)
[Span(start=0, end=4, type='ORG')]
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import NamedTuple, Sequence

from ...core.errors import CorpusFormatError, InputError
from ...core.fileio import atomic_file

logger = logging.getLogger("bilstm_crf_ner.corpus.spans")

OVERLAP_POLICIES = ("refuse", "longest")


class Span(NamedTuple):
    """One entity: ``start``/``end`` character offsets (end exclusive) and its ``type``."""

    start: int
    end: int
    type: str


class Record(NamedTuple):
    """One text of a span file, its spans, and where it was read: ``where`` is the line number
    (``"task N"`` for Label Studio), ``source`` the file when not the one read (BRAT's ``.ann``)."""

    text: str
    spans: list
    where: object
    source: object = None


def as_span(item) -> Span:
    """A :class:`Span` from a ``Span``/``(start, end, type)`` tuple, an ``Entity`` or a dict."""
    if isinstance(item, dict):
        return Span(int(item["start"]), int(item["end"]), str(item["type"]))
    if hasattr(item, "type") and hasattr(item, "start") and not isinstance(item, tuple):
        return Span(int(item.start), int(item.end), str(item.type))
    start, end, etype = item
    if isinstance(start, str) or not isinstance(etype, str):
        raise InputError(f"a span is (start, end, type), got {tuple(item)!r}")
    return Span(int(start), int(end), etype)


def confidence_of(item):
    """The ``confidence`` an ``Entity`` (or dict) carries, else ``None``."""
    value = item.get("confidence") if isinstance(item, dict) else getattr(item, "confidence", None)
    return None if value is None else float(value)


def bad_type(etype) -> bool:
    """Whether ``etype`` cannot be an entity type (not a string, empty, or with a tab or line break;
    spaces are allowed, as Label Studio labels often have them, but BRAT cannot write them)."""
    return not isinstance(etype, str) or not etype or any(ch in etype for ch in "\t\r\n")


def check_span(path, where, text: str, start, end, etype, surface=None, normalize=None) -> Span:
    """A validated :class:`Span`; :class:`CorpusFormatError` naming ``path`` and ``where`` otherwise.

    ``surface``, when the format stores one, must equal ``text[start:end]`` (after ``normalize``).
    """
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
        raise CorpusFormatError(path, where, f"span offsets must be integers, got {start!r}, {end!r}")
    if bad_type(etype):
        raise CorpusFormatError(path, where, f"entity type must be a non-empty string without tabs or line breaks, "
                                             f"got {etype!r}")
    if not 0 <= start < end <= len(text):
        raise CorpusFormatError(path, where, f"span [{start}, {end}) of type {etype} is out of range "
                                             f"for a text of {len(text)} characters")
    if surface is not None:
        actual = text[start:end]
        if normalize is not None:
            actual, surface = normalize(actual), normalize(surface)
        if actual != surface:
            raise CorpusFormatError(path, where, f"span [{start}, {end}) of type {etype} covers {actual!r} "
                                                 f"but the file stores {surface!r}")
    return Span(start, end, etype)


def resolve_overlaps(spans: Sequence[Span], policy: str, path, where) -> list[Span]:
    """Spans sorted by start; overlapping (or duplicated) spans refused or reduced to the longest.

    ``"refuse"`` raises :class:`CorpusFormatError` naming the file, record and both spans;
    ``"longest"`` keeps the longest of each overlapping group (the earliest on ties) and logs
    what it dropped.
    """
    if policy not in OVERLAP_POLICIES:
        raise ValueError(f"overlaps must be one of {OVERLAP_POLICIES}, not {policy!r}")
    ordered = sorted(spans, key=lambda s: (s.start, s.end, s.type))
    if all(b.start >= a.end for a, b in zip(ordered, ordered[1:])):  # sorted: any overlap shows in a neighbour
        return ordered
    if policy == "refuse":
        # Report the first pair that overlaps (not only neighbours: a long span may cover several).
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                if b.start < a.end:
                    raise CorpusFormatError(path, where, f"overlapping or nested spans {tuple(a)} and {tuple(b)}: a "
                                                         "linear-chain CRF cannot tag both (overlaps='longest' keeps "
                                                         "the longest)")
    kept: list[Span] = []
    for span in sorted(ordered, key=lambda s: (s.start - s.end, s.start, s.type)):
        if all(span.end <= k.start or k.end <= span.start for k in kept):
            kept.append(span)
    remaining, dropped = list(kept), []
    for span in ordered:
        if span in remaining:
            remaining.remove(span)
        else:
            dropped.append(tuple(span))
    logger.warning("%s:%s: kept the longest of overlapping spans, dropped %d: %s", path, where, len(dropped),
                   ", ".join(map(str, dropped[:5])))
    return sorted(kept)


def summarize(path, format_name: str, records: Sequence[Record], skipped: int = 0) -> None:
    """Log what was read: records, entities per type (and records skipped, with the reason logged earlier)."""
    counts = Counter(span.type for record in records for span in record.spans)
    per_type = ", ".join(f"{etype} {count}" for etype, count in sorted(counts.items())) or "none"
    logger.info("%s (%s): %d records, %d entities (%s)%s", path, format_name, len(records), sum(counts.values()),
                per_type, f"; {skipped} skipped" if skipped else "")


def read_bytes_lines(path):
    """``(line_number, text)`` of a UTF-8 file split on ``\\n`` only (a JSON string may hold U+2028),
    ``\\r`` line ends and a leading BOM removed; undecodable lines raise :class:`CorpusFormatError`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"span file not found: {path}")
    data = path.read_bytes()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusFormatError(path, number, f"cannot decode line as utf-8: {exc.reason}") from None
        if number == 1:
            line = line.lstrip("\ufeff")
        yield number, line.rstrip("\r")


def read_json_lines(path):
    """``(line_number, object)`` of every non-blank line of a JSON-lines file."""
    for number, line in read_bytes_lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise CorpusFormatError(path, number, f"not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise CorpusFormatError(path, number, f"expected a JSON object, got {type(obj).__name__}")
        yield number, obj


def require(path, where, obj: dict, key: str, kind, kind_name: str):
    """``obj[key]`` checked to be a ``kind``; the error lists the keys the record does have."""
    if key not in obj:
        raise CorpusFormatError(path, where, f"record has no {key!r} key (keys: {', '.join(map(repr, obj)) or 'none'})")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CorpusFormatError(path, where, f"{key!r} must be {kind_name}, got {type(value).__name__}")
    return value


def write_atomic(path, content: str) -> None:
    """Write ``content`` (UTF-8, newlines as given) to ``path`` atomically."""
    with atomic_file(path, newline="") as handle:
        handle.write(content)


def json_line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"
