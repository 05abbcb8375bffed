"""Bulk tagging on Ray Data with a pool of tagger actors (the model loads once per actor); no TensorFlow.

``pip install "bilstm_crf_ner[serve]"`` (the runtime and Ray). Two entry points:

:func:`tag_dataset`: a ``ray.data.Dataset`` with a text column -> the same rows plus ``entities``::

    import ray
    from bilstm_crf_ner.runtime.ray import tag_dataset
    ds = ray.data.read_json("archive/*.jsonl")
    tag_dataset(ds, "ir/", text_column="body", workers=4).write_parquet("out/")

:func:`tag_files` (``bilstm-crf-ner tag``): input files (JSON lines, plain text, Parquet) are
shards; each shard is tagged by one actor and written to ``output_dir`` atomically (a partial
file renamed into place when complete), so a rerun skips complete shards and a worker that dies
mid-shard costs a retry of that shard, never a lost or doubled record::

    bilstm-crf-ner tag ir/ "archive/*.jsonl" out/ --text-field body --workers 4

Ray is imported inside the functions, so this module imports without it.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..core.errors import BilstmCrfNerError, CorpusFormatError

logger = logging.getLogger(__name__)

INPUT_FORMATS = ("jsonl", "text", "parquet")
OUTPUT_FORMATS = ("jsonl", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".txt": "text", ".text": "text",
             ".parquet": "parquet", ".pq": "parquet"}
PARTIAL_MARK = ".partial-"


class BulkTagError(BilstmCrfNerError, ValueError):
    """A bulk-tagging job is misconfigured: no input matches, two shards would share an output, a bad format."""


#: Ray picks the machine's network address even for a single-machine instance; with this variable
#: set before Ray is imported it uses 127.0.0.1, so a local server or job listens on loopback only.
LOOPBACK_ENV = ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def init_ray(address: str | None = None, **options):
    """``ray.init``: join the cluster at ``address``, or start a local instance on 127.0.0.1 only
    (``LOOPBACK_ENV``; set too late if Ray was imported before, which is logged)."""
    import sys

    if address is None:
        if "ray" in sys.modules and os.environ.get(LOOPBACK_ENV[0]) != LOOPBACK_ENV[1]:
            logger.warning("Ray was imported before %s=%s was set: the local instance may listen on the machine's "
                           "network address, not only on 127.0.0.1", *LOOPBACK_ENV)
        os.environ.setdefault(*LOOPBACK_ENV)
    import ray

    return ray.init(address=address or "local", **options)


def entity_arrow_type():
    """Arrow type of an ``entities`` column: ``list<struct<type, start, end, text, confidence>>``."""
    import pyarrow as pa

    return pa.list_(pa.struct([("type", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                               ("text", pa.string()), ("confidence", pa.float64())]))


def _load_tagger(model: str, engine: dict):
    from . import Tagger

    return Tagger.load(model, backend=engine.get("backend"), precision=engine.get("precision"),
                       num_threads=engine.get("num_threads"), static_shapes=engine.get("static_shapes"))


class TextTagger:
    """``map_batches`` class of :func:`tag_dataset`: adds an ``entities`` column to pyarrow batches."""

    def __init__(self, model: str, text_column: str = "text", output_column: str = "entities",
                 batch_size: int = 64, engine: dict | None = None):
        self.tagger = _load_tagger(model, engine or {})
        self.text_column, self.output_column, self.batch_size = text_column, output_column, batch_size

    def __call__(self, batch):
        import pyarrow as pa

        if self.text_column not in batch.column_names:
            raise BulkTagError(f"no column {self.text_column!r}; columns: {', '.join(batch.column_names)}")
        texts = batch.column(self.text_column).to_pylist()
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise BulkTagError(f"column {self.text_column!r} holds {type(text).__name__} {text!r}; texts must be strings")
        entities = self.tagger.predict_entities(texts, batch_size=self.batch_size)
        column = pa.array([[e.to_dict() for e in row] for row in entities], type=entity_arrow_type())
        return batch.append_column(self.output_column, column)


def _engine(backend, precision, num_threads, static_shapes, cpus_per_worker) -> dict:
    threads = num_threads or max(1, int(cpus_per_worker))
    return {"backend": backend, "precision": precision, "num_threads": threads, "static_shapes": static_shapes}


def _actor_args(workers: int, cpus_per_worker: float) -> dict:
    # Ray Data restarts a dead actor and retries its batch (its defaults for actor pools:
    # max_restarts=-1, max_task_retries=-1; tests/test_bulk.py kills one to check).
    from ray.data import ActorPoolStrategy

    return {"compute": ActorPoolStrategy(size=int(workers)), "num_cpus": float(cpus_per_worker)}


def tag_dataset(dataset, model, *, text_column: str = "text", output_column: str = "entities", workers: int = 2,
                cpus_per_worker: float = 1.0, batch_size: int = 64, rows_per_call: int = 1024,
                backend: str | None = None, precision: str | None = None, num_threads: int | None = None,
                static_shapes: bool | None = None):
    """``dataset`` (a ``ray.data.Dataset`` with string column ``text_column``) with an
    ``entities`` column added (list of ``{type, start, end, text, confidence}``; character
    offsets, end exclusive): the answers of ``Tagger.predict_entities`` on each text.

    ``workers`` actors each load the model once and run ``num_threads`` inference threads (by
    default their CPU share, ``cpus_per_worker``); ``rows_per_call`` rows go to an actor at a
    time, tagged in batches of ``batch_size``. ``model`` must be readable on every node.
    Lazy, like every Dataset transformation.
    """
    return dataset.map_batches(
        TextTagger, batch_format="pyarrow", batch_size=int(rows_per_call),
        fn_constructor_kwargs={"model": os.fspath(model), "text_column": text_column, "output_column": output_column,
                               "batch_size": int(batch_size),
                               "engine": _engine(backend, precision, num_threads, static_shapes, cpus_per_worker)},
        **_actor_args(workers, cpus_per_worker))


# ---------------------------------------------------------------- sharded, resumable file jobs


@dataclass(frozen=True)
class Shard:
    """One input file and the output file it becomes."""

    source: str
    output: str
    input_format: str


@dataclass
class TagSummary:
    """What :func:`tag_files` did: shards tagged now, shards skipped as already complete, records written."""

    tagged: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    records: int = 0

    def to_dict(self) -> dict:
        return {"tagged": len(self.tagged), "skipped": len(self.skipped), "records": self.records}


def input_format_of(path: str, default: str | None = None) -> str:
    """``"jsonl"``, ``"text"`` or ``"parquet"`` from a file's suffix (``default`` when given).

    >>> input_format_of("archive/part-001.jsonl"), input_format_of("a.txt"), input_format_of("x.parquet")
    ('jsonl', 'text', 'parquet')
    """
    if default:
        if default not in INPUT_FORMATS:
            raise BulkTagError(f"input format must be one of {INPUT_FORMATS}, not {default!r}")
        return default
    fmt = _SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise BulkTagError(f"cannot tell the format of {path} from its suffix; pass the input format "
                           f"(one of {', '.join(INPUT_FORMATS)})")
    return fmt


def plan_shards(inputs, output_dir, output_format: str = "jsonl", input_format: str | None = None) -> list[Shard]:
    """Shards of the files matched by ``inputs`` (a glob pattern, a path, or a list of them), each
    written to ``output_dir/<file stem>.<output_format>``; sorted by source path.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); _ = (d / "a.jsonl").write_text("")
    >>> [Path(s.output).name for s in plan_shards(str(d / "*.jsonl"), d / "out")]
    ['a.jsonl']
    """
    if output_format not in OUTPUT_FORMATS:
        raise BulkTagError(f"output format must be one of {OUTPUT_FORMATS}, not {output_format!r}")
    patterns = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    sources = sorted({os.path.abspath(p) for pattern in patterns for p in glob.glob(os.fspath(pattern))
                      if os.path.isfile(p)})
    if not sources:
        raise BulkTagError(f"no input file matches {', '.join(map(os.fspath, patterns))}")
    shards, seen = [], {}
    for source in sources:
        output = os.path.join(os.path.abspath(output_dir), f"{Path(source).stem}.{output_format}")
        if output in seen:
            raise BulkTagError(f"{seen[output]} and {source} would both be written to {output}; rename one")
        seen[output] = source
        shards.append(Shard(source, output, input_format_of(source, input_format)))
    return shards


def is_complete(shard: Shard) -> bool:
    """Whether the shard's output exists (it appears only complete, by an atomic rename)."""
    return os.path.isfile(shard.output)


def read_records(path: str, input_format: str, text_field: str = "text", id_field: str | None = "id") -> Iterator[tuple]:
    """``(line, id, text)`` of every record of one input file; ``line`` is the 1-based line (row)
    number and ``id`` the record's ``id_field`` where it has one, else ``line``.

    JSON lines: one object a line (blank lines skipped); plain text: every line is a text, empty
    lines included; Parquet: one row a record. A record without a string ``text_field`` raises
    :class:`~bilstm_crf_ner.core.errors.CorpusFormatError` naming the file and line.
    """
    if input_format == "parquet":
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        if text_field not in names:
            raise CorpusFormatError(path, 1, f"no column {text_field!r}; columns: {', '.join(names)}")
        columns = [text_field] + ([id_field] if id_field and id_field in names and id_field != text_field else [])
        table = pq.read_table(path, columns=columns)
        texts = table.column(text_field).to_pylist()
        ids = table.column(id_field).to_pylist() if len(columns) > 1 else None
        for row, text in enumerate(texts, start=1):
            if not isinstance(text, str):
                raise CorpusFormatError(path, row, f"{text_field!r} is {type(text).__name__}, not a string")
            yield row, (ids[row - 1] if ids is not None else row), text
        return
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if input_format == "text":
                yield number, number, line
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise CorpusFormatError(path, number, f"not JSON: {exc}") from None
            if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                raise CorpusFormatError(path, number, f"needs a string field {text_field!r}")
            yield number, record.get(id_field, number) if id_field else number, record[text_field]


class _ShardWriter:
    """Writes one output shard to a unique partial file, renamed into place by :meth:`commit`."""

    def __init__(self, output: str, output_format: str):
        self.output, self.format = output, output_format
        folder, name = os.path.split(output)
        os.makedirs(folder, exist_ok=True)
        self.partial = os.path.join(folder, f".{name}{PARTIAL_MARK}{uuid.uuid4().hex}")
        self.count = 0
        self._rows: list = []
        self._handle = open(self.partial, "w", encoding="utf-8") if output_format == "jsonl" else None

    def write(self, records) -> None:
        for line, record_id, entities in records:
            row = {"line": line, "id": record_id, "entities": [e.to_dict() for e in entities]}
            if self._handle is not None:
                self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                self._rows.append(row)
            self.count += 1

    def commit(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            ids = [r["id"] for r in self._rows]
            if len({type(i) for i in ids}) > 1:  # mixed id types: strings for all
                ids = [str(i) for i in ids]
            table = pa.table({"line": pa.array([r["line"] for r in self._rows], pa.int64()), "id": pa.array(ids),
                              "entities": pa.array([r["entities"] for r in self._rows], type=entity_arrow_type())})
            pq.write_table(table, self.partial)
        os.replace(self.partial, self.output)

    def abort(self) -> None:
        if self._handle is not None and not self._handle.closed:
            self._handle.close()
        if os.path.exists(self.partial):
            os.unlink(self.partial)


class ShardTagger:
    """``map_batches`` class of :func:`tag_files`: tags whole shards (rows ``source``, ``output``,
    ``input_format``) and writes each atomically; returns ``source`` and ``records`` per shard."""

    def __init__(self, model: str, text_field: str = "text", id_field: str | None = "id", output_format: str = "jsonl",
                 batch_size: int = 64, chunk_size: int = 4096, engine: dict | None = None):
        self.tagger = _load_tagger(model, engine or {})
        self.text_field, self.id_field, self.output_format = text_field, id_field, output_format
        self.batch_size, self.chunk_size = int(batch_size), int(chunk_size)

    def _tag_chunk(self, texts: list[str]) -> list:
        return self.tagger.predict_entities(texts, batch_size=self.batch_size)

    def tag_shard(self, shard: Shard) -> int:
        """Tag one shard into its output file (atomically); the number of records written."""
        writer = _ShardWriter(shard.output, self.output_format)
        try:
            chunk = []
            for record in read_records(shard.source, shard.input_format, self.text_field, self.id_field):
                chunk.append(record)
                if len(chunk) >= self.chunk_size:
                    writer.write((line, rid, ents) for (line, rid, _), ents in zip(chunk, self._tag_chunk([c[2] for c in chunk])))
                    chunk = []
            if chunk:
                writer.write((line, rid, ents) for (line, rid, _), ents in zip(chunk, self._tag_chunk([c[2] for c in chunk])))
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        logger.info("tagged %s: %d records -> %s", shard.source, writer.count, shard.output)
        return writer.count

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        sources, counts = [], []
        for source, output, input_format in zip(batch["source"], batch["output"], batch["input_format"]):
            shard = Shard(str(source), str(output), str(input_format))
            counts.append(self.tag_shard(shard))
            sources.append(shard.source)
        return {"source": np.array(sources, dtype=object), "records": np.array(counts, dtype=np.int64)}


def remove_partials(output_dir) -> int:
    """Delete partial files left in ``output_dir`` by interrupted runs; how many were removed."""
    removed = 0
    for path in glob.glob(os.path.join(os.fspath(output_dir), f".*{PARTIAL_MARK}*")):
        os.unlink(path)
        removed += 1
    return removed


def tag_files(model, inputs, output_dir, *, text_field: str = "text", id_field: str | None = "id",
              input_format: str | None = None, output_format: str = "jsonl", workers: int = 2,
              cpus_per_worker: float = 1.0, batch_size: int = 64, chunk_size: int = 4096, overwrite: bool = False,
              backend: str | None = None, precision: str | None = None, num_threads: int | None = None,
              static_shapes: bool | None = None, worker_class=ShardTagger) -> TagSummary:
    """Tag every shard (input file) matched by ``inputs`` into ``output_dir``; returns a :class:`TagSummary`.

    Each output line (JSON lines) or row (Parquet) is ``{"line", "id", "entities"}``. Shards
    whose output exists are skipped unless ``overwrite``; the rest go to ``workers`` actors
    (``cpus_per_worker`` CPUs and ``num_threads`` inference threads each, the model loaded once
    per actor), one shard per task, with actor restarts and task retries on. Starts a local Ray
    instance if none is running (``ray.init`` first to use a cluster). ``worker_class``: a
    subclass of :class:`ShardTagger` to customise (tests use it to kill an actor).
    """
    import numpy as np
    import ray.data

    shards = plan_shards(inputs, output_dir, output_format, input_format)
    os.makedirs(output_dir, exist_ok=True)
    remove_partials(output_dir)
    summary = TagSummary()
    pending = []
    for shard in shards:
        if is_complete(shard) and not overwrite:
            summary.skipped.append(shard.source)
        else:
            pending.append(shard)
    if not pending:
        logger.info("all %d shards are complete in %s", len(shards), output_dir)
        return summary
    logger.info("tagging %d shards (%d complete) with %d workers", len(pending), len(summary.skipped), workers)
    items = {"source": np.array([s.source for s in pending], dtype=object),
             "output": np.array([s.output for s in pending], dtype=object),
             "input_format": np.array([s.input_format for s in pending], dtype=object)}
    dataset = ray.data.from_items([{k: items[k][i] for k in items} for i in range(len(pending))],
                                  override_num_blocks=len(pending))
    results = dataset.map_batches(
        worker_class, batch_size=1, batch_format="numpy",
        fn_constructor_kwargs={"model": os.fspath(model), "text_field": text_field, "id_field": id_field,
                               "output_format": output_format, "batch_size": int(batch_size),
                               "chunk_size": int(chunk_size),
                               "engine": _engine(backend, precision, num_threads, static_shapes, cpus_per_worker)},
        **_actor_args(min(int(workers), len(pending)), cpus_per_worker))
    for row in results.iter_rows():
        summary.tagged.append(str(row["source"]))
        summary.records += int(row["records"])
    remove_partials(output_dir)
    return summary
