"""doccano JSON lines: ``{"text": ..., "label": [[start, end, type], ...]}`` per line.

doccano's sequence-labelling import and export; ``"labels"`` is read as a synonym of ``"label"``,
other keys (``"id"``, metadata) are ignored.

>>> render(["张三来了"], [[(0, 2, "PER")]])
'{"text": "张三来了", "label": [[0, 2, "PER"]]}\\n'
"""

from __future__ import annotations

from ...core.errors import CorpusFormatError
from .records import Record, as_span, check_span, json_line, read_json_lines, require

NAME = "doccano"


def read(path) -> list[Record]:
    records = []
    for number, obj in read_json_lines(path):
        text = require(path, number, obj, "text", str, "a string")
        key = "label" if "label" in obj or "labels" not in obj else "labels"
        labels = require(path, number, obj, key, list, "a list of [start, end, type]")
        spans = []
        for item in labels:
            if not isinstance(item, list) or len(item) != 3:
                raise CorpusFormatError(path, number, f"each label must be [start, end, type], got {item!r}")
            spans.append(check_span(path, number, text, *item))
        records.append(Record(text, spans, number))
    return records


def render(texts, entities, **_) -> str:
    return "".join(json_line({"text": text, "label": [list(as_span(e)) for e in spans]})
                   for text, spans in zip(texts, entities))
