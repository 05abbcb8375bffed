"""CLUENER2020 JSON lines: ``{"text": ..., "label": {type: {surface: [[start, end_inclusive], ...]}}}``.

Ends are *inclusive* in this format (converted to exclusive on reading, back on writing), and
every surface string must equal the text it indexes.

>>> render(["叶老桂说"], [[(0, 3, "name")]])
'{"text": "叶老桂说", "label": {"name": {"叶老桂": [[0, 2]]}}}\\n'
"""

from __future__ import annotations

from ...core.errors import CorpusFormatError
from .records import Record, as_span, check_span, json_line, read_json_lines, require

NAME = "cluener"


def read(path) -> list[Record]:
    records = []
    for number, obj in read_json_lines(path):
        text = require(path, number, obj, "text", str, "a string")
        label = require(path, number, obj, "label", dict, "an object {type: {surface: [[start, end], ...]}}")
        spans = []
        for etype, surfaces in label.items():
            if not isinstance(surfaces, dict):
                raise CorpusFormatError(path, number, f"label {etype!r} must map surface strings to offsets")
            for surface, positions in surfaces.items():
                if not isinstance(positions, list):
                    raise CorpusFormatError(path, number, f"{etype} {surface!r}: expected a list of [start, end]")
                for pair in positions:
                    if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(v, int) for v in pair):
                        raise CorpusFormatError(path, number,
                                                f"{etype} {surface!r}: expected [start, end], got {pair!r}")
                    spans.append(check_span(path, number, text, pair[0], pair[1] + 1, etype, surface))
        records.append(Record(text, spans, number))
    return records


def render(texts, entities, **_) -> str:
    lines = []
    for text, items in zip(texts, entities):
        label: dict = {}
        for item in items:
            span = as_span(item)
            label.setdefault(span.type, {}).setdefault(text[span.start:span.end], []).append([span.start, span.end - 1])
        lines.append(json_line({"text": text, "label": label}))
    return "".join(lines)
