"""Bulk tagging on Ray Data: ``tag_dataset``, the sharded resumable ``tag_files`` / ``tag`` command,
and a killed actor costing a retry, not data. One local Ray instance for the module."""

import json
import os
import subprocess
import sys

import pyarrow as pa  # the test extra brings Ray Data and pyarrow: no skipping
import pytest
import ray.data  # noqa: F401

from conftest import tensorflow_blocking_env

from bilstm_crf_ner.runtime.ray import (
    ShardTagger, init_ray, plan_shards, read_records, tag_dataset, tag_files,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(msra, tmp_path_factory):
    from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel

    folder = tmp_path_factory.mktemp("bulk-model")
    zh = BLSTMCRFModel(BareEmbedding(embedding_dim=32), lstm_units=32, learning_rate=5e-3, seed=5)
    zh.fit(msra[0][:1500], msra[1][:1500], epochs=2, batch_size=32, verbose=0)
    zh.export(folder / "ir", measure=False)
    return str(folder / "ir")


@pytest.fixture(scope="module")
def texts(msra):
    return ["".join(s) for s in msra[2][:600]]


@pytest.fixture(scope="module")
def expected(model, texts):
    from bilstm_crf_ner.runtime import Tagger

    tagger = Tagger.load(model)
    return [[e.to_dict() for e in row] for row in tagger.predict_entities(texts)]


@pytest.fixture(scope="module")
def ray_local():
    import ray

    init_ray(None, num_cpus=2, object_store_memory=200 * 1024 * 1024, include_dashboard=False, logging_level="ERROR",
             log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def _write_shards(folder, texts, shards=4, fmt="jsonl"):
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(texts) // shards)
    for k in range(shards):
        part = texts[k * size:(k + 1) * size]
        if fmt == "jsonl":
            lines = [json.dumps({"doc": f"d{k}-{i}", "body": t}, ensure_ascii=False) for i, t in enumerate(part)]
            (folder / f"part-{k}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        elif fmt == "text":
            (folder / f"part-{k}.txt").write_text("\n".join(part) + "\n", encoding="utf-8")
        else:
            import pyarrow.parquet as pq

            pq.write_table(pa.table({"body": part, "doc": [f"d{k}-{i}" for i in range(len(part))]}),
                           folder / f"part-{k}.parquet")
    return size


def _read_output(folder):
    rows = []
    for path in sorted(folder.iterdir()):
        assert not path.name.startswith("."), f"partial file left behind: {path}"
        if path.suffix == ".jsonl":
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        else:
            import pyarrow.parquet as pq

            rows += pq.read_table(path).to_pylist()
    return rows


def _by_doc(rows, texts, expected, size):
    got = {}
    for row in rows:
        assert row["id"] not in got, f"record {row['id']} written twice"
        got[row["id"]] = row
    assert len(got) == len(texts)
    for index, (text, entities) in enumerate(zip(texts, expected)):
        row = got[f"d{index // size}-{index % size}"]
        assert row["line"] == index % size + 1
        assert [{k: e[k] for k in ("type", "start", "end", "text")} for e in row["entities"]] == \
            [{k: e[k] for k in ("type", "start", "end", "text")} for e in entities]
        assert all(abs(a["confidence"] - b["confidence"]) < 1e-6 for a, b in zip(row["entities"], entities))


def test_read_records_and_plan_without_ray(tmp_path):
    (tmp_path / "a.txt").write_text("第一行\n\n第三行\n", encoding="utf-8")
    assert list(read_records(str(tmp_path / "a.txt"), "text")) == [(1, 1, "第一行"), (2, 2, ""), (3, 3, "第三行")]
    (tmp_path / "b.jsonl").write_text('{"text": "x", "id": 7}\n\n{"text": "y"}\n', encoding="utf-8")
    assert list(read_records(str(tmp_path / "b.jsonl"), "jsonl")) == [(1, 7, "x"), (3, 3, "y")]
    (tmp_path / "c.jsonl").write_text('{"body": "x"}\n', encoding="utf-8")
    from bilstm_crf_ner.core.errors import CorpusFormatError

    with pytest.raises(CorpusFormatError, match="c.jsonl:1"):
        list(read_records(str(tmp_path / "c.jsonl"), "jsonl"))
    shards = plan_shards(str(tmp_path / "*.jsonl"), tmp_path / "out", "parquet")
    assert [os.path.basename(s.output) for s in shards] == ["b.parquet", "c.parquet"]


def test_tag_dataset_adds_entities_equal_to_the_tagger(ray_local, model, texts, expected):
    ds = ray_local.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=4)
    rows = tag_dataset(ds, model, workers=2, cpus_per_worker=0.5, rows_per_call=100).take_all()
    assert sorted(r["id"] for r in rows) == list(range(len(texts)))
    for row in rows:
        want = expected[row["id"]]
        assert [(e["type"], e["start"], e["end"], e["text"]) for e in row["entities"]] == \
            [(e["type"], e["start"], e["end"], e["text"]) for e in want]


@pytest.mark.parametrize("fmt,out", [("jsonl", "jsonl"), ("parquet", "parquet"), ("text", "jsonl")])
def test_shards_are_written_whole_and_a_rerun_skips_complete_ones(ray_local, model, texts, expected, tmp_path, fmt, out):
    size = _write_shards(tmp_path / "in", texts, shards=4, fmt=fmt)
    pattern = str(tmp_path / "in" / "part-*")
    kwargs = dict(text_field="body", id_field="doc", output_format=out, workers=2, cpus_per_worker=0.5)
    first = tag_files(model, pattern, tmp_path / "out", **kwargs)
    assert len(first.tagged) == 4 and first.skipped == [] and first.records == len(texts)
    rows = _read_output(tmp_path / "out")
    if fmt == "text":  # no id field: the id is the line number
        assert sorted((r["line"], r["id"]) for r in rows)[:3] == [(1, 1), (1, 1), (1, 1)]
        assert len(rows) == len(texts)
    else:
        _by_doc(rows, texts, expected, size)
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    os.unlink(tmp_path / "out" / f"part-2.{out}")
    second = tag_files(model, pattern, tmp_path / "out", **kwargs)
    assert [os.path.basename(s) for s in second.tagged] == [f"part-2.{fmt if fmt != 'text' else 'txt'}"]
    assert len(second.skipped) == 3 and second.records == len(texts) - 3 * size
    third = tag_files(model, pattern, tmp_path / "out", **kwargs)
    assert third.tagged == [] and len(third.skipped) == 4 and third.records == 0
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert after.keys() == before.keys()
    if out == "jsonl":
        assert after == before


def _dies_once(marker: str):
    """A :class:`ShardTagger` that kills its own process (no cleanup, like a lost node) in the
    middle of its first shard, once per run (the marker file says it already happened). Defined
    in a function, so Ray ships the class by value."""

    class DiesOnce(ShardTagger):
        def _tag_chunk(self, texts):
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls == 2 and not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)
            return super()._tag_chunk(texts)

    return DiesOnce


def test_a_killed_actor_costs_a_retry_not_data(ray_local, model, texts, expected, tmp_path):
    size = _write_shards(tmp_path / "in", texts, shards=3)
    marker = tmp_path / "died"
    summary = tag_files(model, str(tmp_path / "in" / "*.jsonl"), tmp_path / "out", text_field="body", id_field="doc",
                        workers=2, cpus_per_worker=0.5, chunk_size=50, worker_class=_dies_once(str(marker)))
    assert marker.exists(), "the actor was never killed: the test proved nothing"
    assert summary.records == len(texts) and len(summary.tagged) == 3
    _by_doc(_read_output(tmp_path / "out"), texts, expected, size)


def test_tag_command_without_tensorflow(model, texts, expected, tmp_path, ray_local):
    """``bilstm-crf-ner tag`` end to end in a process tree where TensorFlow cannot be imported
    (it starts its own local Ray; the module's instance is left alone)."""
    size = _write_shards(tmp_path / "in", texts[:200], shards=2)
    command = [sys.executable, "-m", "bilstm_crf_ner", "tag", model, str(tmp_path / "in" / "*.jsonl"),
               str(tmp_path / "out"), "--text-field", "body", "--id-field", "doc", "--workers", "2",
               "--cpus-per-worker", "0.5", "-q"]
    result = subprocess.run(command, env=tensorflow_blocking_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["tagged"] == 2 and summary["records"] == 200
    _by_doc(_read_output(tmp_path / "out"), texts[:200], expected[:200], size)
