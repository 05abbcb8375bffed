"""Label Studio JSON: the project export (tasks with ``annotations``) and the pre-annotation
import format (tasks with ``predictions``), for a ``<Labels>`` control on a ``<Text>`` object.

Reading: a JSON list of tasks (or one task object). The text is ``task["data"][text_key]``.
Of a task's ``annotations`` (``completions`` in old exports) the latest one (by
``updated_at``, else ``created_at``, else position) that is not ``was_cancelled`` is used;
a task without one uses its last prediction (so pre-annotations read back); a task with
neither is skipped and counted in a warning. Result items of ``type`` ``"labels"`` (and, if
given, of the ``from_name`` / ``to_name`` asked for) are read: ``value.start``/``value.end``
are code-point offsets (as Label Studio stores them since 1.x), ``value.text`` must match,
each label of ``value.labels`` is one span. Other result types (choices, relations) are ignored.

Writing gives the import format, one task per text::

    {"data": {"text": ...}, "predictions": [{"model_version": ..., "score": ..., "result": [
        {"id": "e0", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 2, "text": ..., "labels": ["PER"]}, "score": 0.98}]}]}

``score`` appears where the entities carry a confidence: per region the entity's, per
prediction the lowest of the task (the Data Manager can sort tasks by it, least sure first).

>>> import json
>>> task = json.loads(render(["张三来了"], [[(0, 2, "PER")]], model_version="m1"))[0]
>>> task["predictions"][0]["result"][0]["value"]
{'start': 0, 'end': 2, 'text': '张三', 'labels': ['PER']}
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ...core.errors import CorpusFormatError
from .records import Record, as_span, check_span, confidence_of

NAME = "label-studio"
logger = logging.getLogger("bilstm_crf_ner.corpus.spans")


def _load(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"span file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CorpusFormatError(path, line, f"cannot decode as utf-8: {exc.reason}") from None
    try:
        tasks = json.loads(text)
    except ValueError as exc:
        raise CorpusFormatError(path, getattr(exc, "lineno", 1), f"not valid JSON: {exc}") from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise CorpusFormatError(path, 1, f"expected a list of Label Studio tasks, got {type(tasks).__name__}")
    return tasks


def _chosen(task):
    """The result list to read: latest non-cancelled annotation, else the last prediction, else None."""
    annotations = task.get("annotations", task.get("completions")) or []
    live = [(i, a) for i, a in enumerate(annotations) if isinstance(a, dict) and not a.get("was_cancelled")]
    if live:
        _, best = max(live, key=lambda ia: (str(ia[1].get("updated_at") or ia[1].get("created_at") or ""), ia[0]))
        return best
    predictions = [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    return predictions[-1] if predictions else None


def read(path, text_key: str = "text", from_name: str | None = None, to_name: str | None = None) -> list[Record]:
    records, skipped = [], 0
    for index, task in enumerate(_load(path), start=1):
        where = f"task {index}" + (f" (id {task['id']})" if isinstance(task, dict) and "id" in task else "")
        if not isinstance(task, dict):
            raise CorpusFormatError(path, where, f"a task must be an object, got {type(task).__name__}")
        data = task.get("data")
        if not isinstance(data, dict) or not isinstance(data.get(text_key), str):
            keys = ", ".join(map(repr, data)) if isinstance(data, dict) else "no 'data' object"
            raise CorpusFormatError(path, where, f"task has no text at data[{text_key!r}] (keys: {keys}; "
                                                 "pass text_key= for another name)")
        text = data[text_key]
        chosen = _chosen(task)
        if chosen is None:
            skipped += 1
            continue
        result = chosen.get("result")
        if not isinstance(result, list):
            raise CorpusFormatError(path, where, "annotation or prediction has no 'result' list")
        spans = []
        for item in result:
            if not isinstance(item, dict) or item.get("type") != "labels":
                continue
            if from_name is not None and item.get("from_name") != from_name:
                continue
            if to_name is not None and item.get("to_name") != to_name:
                continue
            value = item.get("value")
            if not isinstance(value, dict) or not all(k in value for k in ("start", "end", "labels")):
                keys = ", ".join(map(repr, value)) if isinstance(value, dict) else "none"
                raise CorpusFormatError(path, where, f"result {item.get('id', '?')!r}: value needs start, end and "
                                                     f"labels (keys: {keys})")
            if not isinstance(value["labels"], list) or not value["labels"]:
                raise CorpusFormatError(path, where, f"result {item.get('id', '?')!r}: labels must be a non-empty list")
            for label in value["labels"]:
                spans.append(check_span(path, where, text, value["start"], value["end"], label, value.get("text")))
        records.append(Record(text, spans, where))
    if skipped:
        logger.warning("%s: %d task(s) without an annotation (or all cancelled) and without predictions skipped",
                       path, skipped)
    return records


def render(texts, entities, text_key: str = "text", from_name: str = "label", to_name: str = "text",
           model_version: str = "bilstm_crf_ner", **_) -> str:
    tasks = []
    for text, items in zip(texts, entities):
        result, scores = [], []
        for j, item in enumerate(items):
            span = as_span(item)
            region = {"id": f"e{j}", "from_name": from_name, "to_name": to_name, "type": "labels",
                      "value": {"start": span.start, "end": span.end, "text": text[span.start:span.end],
                                "labels": [span.type]}}
            confidence = confidence_of(item)
            if confidence is not None:
                region["score"] = confidence
                scores.append(confidence)
            result.append(region)
        prediction = {"model_version": model_version, "result": result}
        if scores:
            prediction["score"] = min(scores)
        tasks.append({"data": {text_key: text}, "predictions": [prediction]})
    return json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
