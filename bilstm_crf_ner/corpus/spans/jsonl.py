"""Plain JSON lines: ``{"text": ..., "entities": [{"start", "end", "type", "text"}]}`` per line.

The shape ``predict_entities`` returns and ``bilstm-crf-ner predict`` writes (an entity's
``"text"``, when present, must equal the text it covers; ``"confidence"`` is kept on writing
when the entities carry one, ignored on reading).

>>> render(["张三来了"], [[(0, 2, "PER")]])
'{"text": "张三来了", "entities": [{"start": 0, "end": 2, "type": "PER", "text": "张三"}]}\\n'
"""

from __future__ import annotations

from ...core.errors import CorpusFormatError
from .records import Record, as_span, check_span, confidence_of, json_line, read_json_lines, require

NAME = "jsonl"


def read(path) -> list[Record]:
    records = []
    for number, obj in read_json_lines(path):
        if "text" not in obj and "tokens" in obj:
            raise CorpusFormatError(path, number, "a 'tokens' record has token indices, not character offsets: "
                                                  "predict on raw text lines to get a span file")
        text = require(path, number, obj, "text", str, "a string")
        entities = require(path, number, obj, "entities", list, "a list of {start, end, type}")
        spans = []
        for item in entities:
            missing = [k for k in ("start", "end", "type") if not isinstance(item, dict) or k not in item]
            if missing:
                raise CorpusFormatError(path, number, f"entity {item!r} lacks {', '.join(missing)}")
            spans.append(check_span(path, number, text, item["start"], item["end"], item["type"], item.get("text")))
        records.append(Record(text, spans, number))
    return records


def render(texts, entities, **_) -> str:
    lines = []
    for text, items in zip(texts, entities):
        out = []
        for item in items:
            span = as_span(item)
            entity = {"start": span.start, "end": span.end, "type": span.type, "text": text[span.start:span.end]}
            confidence = confidence_of(item)
            if confidence is not None:
                entity["confidence"] = confidence
            out.append(entity)
        lines.append(json_line({"text": text, "entities": out}))
    return "".join(lines)
