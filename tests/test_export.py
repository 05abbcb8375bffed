"""Export to ONNX / OpenVINO and the TensorFlow-free runtime, on a model trained on MSRA."""

import json
import os
import subprocess
import sys
import threading
from collections import Counter

import numpy as np
import pytest

from bilstm_crf_ner import ModelLoadError, ModelSaveError
from bilstm_crf_ner.export import ExportError
from bilstm_crf_ner.runtime import BackendError, Tagger


def predict_in_threads(tagger, sample, batch_size, count=3):
    """``tagger.predict(sample[k::count])`` for each k, all from their own threads at once."""
    results = {}

    def work(k):
        results[k] = tagger.predict(sample[k::count], batch_size=batch_size)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results.get(k) for k in range(count)]


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    model, _ = trained
    path = tmp_path_factory.mktemp("export") / "ir"
    model.export(path)
    return model, path


def test_folder_layout_and_metadata(exported):
    model, path = exported
    names = {p.name for p in path.iterdir()}
    assert {"model.onnx", "model.xml", "model.bin", "metadata.json", "vocab.json", "ovms"} <= names
    assert (path / "ovms" / "ner" / "1" / "model.xml").is_file() and (path / "ovms" / "ner" / "1" / "model.bin").is_file()
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["tags"] == model.tags and meta["tag_scheme"] == "BIOES" and meta["data_scheme"] == "BIO"
    assert meta["default_backend"] in ("openvino", "onnxruntime") and meta["default_precision"] == "f32"
    assert max(meta["parity"].values()) < 1e-3
    # a character BiLSTM-CRF has nothing to fuse; the timings say how they were taken
    assert meta["graph"]["openvino_fused"] == {"layer_norm": 0, "attention": 0}
    assert meta["speed_statistic"].startswith("fastest")
    # row streams were timed for an OpenVINO default on a machine with several cores, and recorded
    assert meta["default_streams"] >= 1
    if meta["default_backend"] == "openvino" and (os.cpu_count() or 1) > 1:
        assert any(key.endswith("_streams_ms") for key in meta["speed_workload"])
    import onnx

    ops = {n.op_type for n in onnx.load(str(path / "model.onnx")).graph.node}
    assert "LSTM" in ops and "Loop" not in ops  # native recurrent ops, no generic loop


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_f32_tags_equal_keras_on_every_token_of_real_variable_length_batches(exported, msra, backend):
    model, path = exported
    tagger = Tagger.load(path, backend=backend, precision="f32")
    sample = msra[2][:400]  # real MSRA test sentences, 1 to 100+ characters, batched by length
    expected = model.predict(sample)
    assert tagger.predict(sample, batch_size=16) == expected
    assert tagger.predict(sample, batch_size=64, progress=True) == expected
    assert [tagger.predict([s])[0] for s in sample[:30]] == expected[:30]  # alone == in a padded batch
    texts = ["".join(s) for s in msra[2][400:450]] + ["  今天新发布的 小米手机太棒了。", "", " "]
    spans = lambda result: [[(e.type, e.start, e.end, e.text) for e in s] for s in result]  # noqa: E731
    assert spans(tagger.predict_entities(texts)) == spans(model.predict_entities(texts))
    assert tagger.predict(sample[:50], tag_scheme="BIOES") == model.predict(sample[:50], tag_scheme="BIOES")


def test_openvino_throughput_mode_gives_the_same_tags(exported, msra):
    model, path = exported
    tagger = Tagger.load(path, backend="openvino", precision="f32", throughput_mode=True)
    sample = msra[2][:300]
    assert tagger.backend.throughput
    assert tagger.predict(sample, batch_size=8, progress=True) == model.predict(sample)  # ~38 batches in flight


def test_static_shapes_tag_exactly_within_their_memory_budget(exported, msra):
    """Static shapes pad to SHAPE_STEP and compile per shape: same tags as Keras; the compiled
    shapes stay within the memory budget and batches of other shapes run with dynamic shapes,
    with the same tags, also under threads."""
    model, path = exported
    sample = msra[2][:240]  # lengths 1 to 100+: several padded shapes per batch size
    expected = model.predict(sample)
    roomy = Tagger.load(path, backend="openvino", precision="f32", static_shapes=True)
    assert roomy.backend.static_shapes and roomy.predict(sample, batch_size=16) == expected
    assert roomy.backend.compiled_shapes > 3 and roomy.backend.shape_memory_bytes > 0
    per_shape = roomy.backend.shape_memory_bytes / roomy.backend.compiled_shapes
    budget_mb = 2.5 * per_shape / 2**20  # room for about two shapes
    tight = Tagger.load(path, backend="openvino", precision="f32", static_shapes=True, shape_memory_mb=budget_mb)
    assert predict_in_threads(tight, sample, batch_size=8) == [expected[k::3] for k in range(3)]
    assert 1 <= tight.backend.compiled_shapes < roomy.backend.compiled_shapes
    assert tight.backend.compiled_shapes == 1 or tight.backend.shape_memory_bytes <= budget_mb * 2**20
    with pytest.raises(BackendError, match="shape_memory_mb"):
        Tagger.load(path, backend="openvino", static_shapes=True, shape_memory_mb=0)


@pytest.mark.parametrize("static", [False, True])
def test_row_streams_tag_exactly_in_batches_alone_and_under_threads(exported, msra, static):
    """Each batch's rows split across 2 single-threaded streams: Keras's tags for many batches of
    an odd size (all slices in flight), single sentences (the all-cores model) and concurrent
    callers; the emissions of real tokens equal the unsplit model's."""
    from bilstm_crf_ner.core.batching import pad_batch

    model, path = exported
    sample = msra[2][:150]
    expected = model.predict(sample)
    tagger = Tagger.load(path, backend="openvino", precision="f32", static_shapes=static, streams=2, num_threads=2)
    plain = Tagger.load(path, backend="openvino", precision="f32", static_shapes=static, streams=1)
    assert tagger.backend.streams == 2 and plain.backend.streams == 1
    assert tagger.predict(sample, batch_size=7) == expected
    # the split path ran: a model compiled for the streams (per shape with static shapes)
    streamed = [k for k in tagger.backend._shapes.shapes() if k[0] == "streams"] if static \
        else [tagger.backend._streams_dynamic]
    assert streamed and all(streamed)
    assert [tagger.predict([s])[0] for s in sample[:8]] == expected[:8]
    assert tagger.predict(sample[:15], batch_size=7) == expected[:15]  # the last batch has one row
    assert predict_in_threads(tagger, sample, batch_size=5) == [expected[k::3] for k in range(3)]
    encoder = tagger.predictor.encoder
    sentences = [s for s in sample[:5]]  # lengths differ: slices come back at different widths
    ids = pad_batch(encoder.encode_many(sentences))
    split, whole = tagger.predictor.scorer.emissions(ids), plain.predictor.scorer.emissions(ids)
    for row, sentence in enumerate(sentences):
        np.testing.assert_allclose(split[row, :len(sentence)], whole[row, :len(sentence)], rtol=0, atol=1e-5)
    tagger.backend.close()


def test_row_streams_are_capped_by_threads_and_checked(exported):
    _, path = exported
    assert Tagger.load(path, backend="openvino", num_threads=1, streams=4).backend.streams == 1
    with pytest.raises(BackendError, match="streams"):
        Tagger.load(path, backend="openvino", streams=0)
    with pytest.raises(BackendError, match="choose one"):
        Tagger.load(path, backend="openvino", throughput_mode=True, streams=2, num_threads=2)


def test_the_default_engine_gets_the_row_streams_the_export_recorded(exported, tmp_path):
    """``default_streams`` applies to the default backend and precision (static shapes or not),
    capped at the cores; other engines and old exports get 1."""
    import os
    import shutil

    from bilstm_crf_ner.runtime.backends import default_streams

    _, path = exported
    copy = tmp_path / "ir"
    shutil.copytree(path, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta.update(default_backend="openvino", default_precision="f32", default_streams=2)
    (copy / "metadata.json").write_text(json.dumps(meta))
    cores = os.cpu_count() or 1
    threads = Tagger.load(copy, streams=1).backend.compiled.get_property("INFERENCE_NUM_THREADS") or cores
    assert Tagger.load(copy).backend.streams == min(2, cores, threads)  # at most one stream per thread
    assert Tagger.load(copy, static_shapes=True).backend.streams == min(2, cores, threads)
    assert Tagger.load(copy, streams=1).backend.streams == 1
    assert Tagger.load(copy, throughput_mode=True).backend.streams == 1  # asked for the other way to overlap
    assert Tagger.load(copy, backend="onnxruntime").backend.name == "onnxruntime"
    assert default_streams({"default_streams": 10_000}) == cores and default_streams({}) == 1


def test_row_streams_become_the_default_only_when_clearly_faster():
    from bilstm_crf_ner.export.exporter import STREAMS_MARGIN, choose_streams

    assert choose_streams(None) == 1  # ONNX Runtime default or one core: nothing was timed
    assert choose_streams({"streams": 2, "16x128": [50.0, 45.0], "workload": [100.0, 80.0]}) == 2
    barely = 100.0 * (1 - STREAMS_MARGIN / 2)
    assert choose_streams({"streams": 2, "16x128": [50.0, 45.0], "workload": [100.0, barely]}) == 1
    assert choose_streams({"streams": 4, "16x128": [50.0, 60.0], "workload": [100.0, 120.0]}) == 1


def test_bf16_agreement_is_measured(exported, msra):
    """OpenVINO bf16 (the CPU default where supported) is close to, not equal to, f32."""
    model, path = exported
    try:
        tagger = Tagger.load(path, backend="openvino", precision="bf16")
    except BackendError as exc:
        pytest.fail(f"bf16 unavailable on this CPU: {exc}")
    sample = msra[2][:300]
    expected, got = model.predict(sample), tagger.predict(sample)
    agreement = np.mean([a == b for x, y in zip(expected, got) for a, b in zip(x, y)])
    print(f"OpenVINO bf16 token agreement with Keras f32: {agreement:.4f}")
    assert agreement > 0.98


def test_long_text_and_threads(exported, msra):
    model, path = exported
    tagger = Tagger.load(path)
    text = "".join("".join(s) for s in msra[2][:80])
    assert tagger.predict([text]) == model.predict([text])
    sample = msra[2][500:740]
    expected = tagger.predict(sample)
    results, errors = {}, []

    def work(k):
        try:
            results[k] = tagger.predict(sample[k::4], batch_size=8)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(4):
        assert results[k] == expected[k::4]


def test_runtime_does_not_import_tensorflow(exported):
    _, path = exported
    code = ("import sys; from bilstm_crf_ner.runtime import Tagger; "
            f"t = Tagger.load({str(path)!r}); t.predict(['中国']); "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_export_refuses_non_empty_folder_and_cleans_up_on_failure(trained, tmp_path, monkeypatch):
    model, _ = trained
    target = tmp_path / "ir"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(ModelSaveError, match="not empty"):
        model.export(target)
    with pytest.raises(ModelSaveError, match="not an exported model folder"):
        model.export(target, overwrite=True)  # overwrite replaces exports only, never other folders
    import bilstm_crf_ner.export.exporter as exporter

    def broken(*args, **kwargs):
        raise ExportError("simulated OpenVINO failure")

    monkeypatch.setattr(exporter, "onnx_to_openvino", broken)
    with pytest.raises(ExportError, match="simulated"):
        model.export(tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ir"]
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_load_errors(exported, tmp_path):
    _, path = exported
    with pytest.raises(ModelLoadError, match="not an exported"):
        Tagger.load(tmp_path)
    with pytest.raises(BackendError, match="backend must be"):
        Tagger.load(path, backend="tensorrt")
    with pytest.raises(BackendError, match="runs f32 or int8"):
        Tagger.load(path, backend="onnxruntime", precision="bf16")
    with pytest.raises(BackendError, match=r"no INT8 model for \w+: export with int8_calibration"):
        Tagger.load(path, precision="int8")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("metadata.json", "vocab.json", "model.onnx"):
        (broken / name).write_bytes((path / name).read_bytes())
    with pytest.raises(ModelLoadError, match="missing model.xml"):
        Tagger.load(broken, backend="openvino")
    (broken / "vocab.json").write_text(json.dumps(["<pad>", "<unk>"]))
    with pytest.raises(ModelLoadError, match="2 tokens"):
        Tagger.load(broken, backend="onnxruntime")


def test_bigram_model_exports_exactly(msra, tmp_path):
    from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel

    model = BLSTMCRFModel(BareEmbedding(16, bigram_dim=8), lstm_units=16, seed=1)
    model.fit(msra[0][:600], msra[1][:600], epochs=1, batch_size=32, verbose=0)
    model.export(tmp_path / "ir", measure=False)
    sample = msra[2][:150]
    expected = model.predict(sample)
    for backend in ("onnxruntime", "openvino"):
        assert Tagger.load(tmp_path / "ir", backend=backend, precision="f32").predict(sample) == expected


def test_runtime_scores_equal_keras_to_1e5(exported, msra):
    """Marginals, entity confidences and n-best probabilities: runtime (numpy) vs Keras, f32."""
    model, path = exported
    sample = msra[2][:80]
    texts = ["".join(s) for s in sample]
    for backend in ("onnxruntime", "openvino"):
        tagger = Tagger.load(path, backend=backend, precision="f32")
        tags, scores = tagger.predict(sample, return_scores=True)
        keras_tags, keras_scores = model.predict(sample, return_scores=True)
        assert tags == keras_tags
        np.testing.assert_allclose(np.concatenate(scores), np.concatenate(keras_scores), atol=1e-5)
        got, expected = tagger.predict_entities(texts), model.predict_entities(texts)
        assert [[(e.type, e.start, e.end) for e in s] for s in got] == [[(e.type, e.start, e.end) for e in s] for s in expected]
        np.testing.assert_allclose([e.confidence for s in got for e in s], [e.confidence for s in expected for e in s], atol=1e-5)
        for a, b in zip(tagger.predict_nbest(sample, n=3), model.predict_nbest(sample, n=3)):
            assert [t for t, _ in a] == [t for t, _ in b]
            np.testing.assert_allclose([p for _, p in a], [p for _, p in b], atol=1e-5)


def test_default_engine_policy():
    """f32 engines always qualify; bf16 / INT8 only under 'fastest' and with enough agreement;
    static shapes only when clearly faster."""
    from bilstm_crf_ner.export.exporter import MIN_DEFAULT_AGREEMENT, choose_default

    speeds = {("onnxruntime", "f32", False): 30.0, ("openvino", "f32", False): 25.0, ("openvino", "f32", True): 21.0,
              ("openvino", "bf16", False): 20.0, ("openvino", "int8", True): 10.0}
    agreement = {"f32": 1.0, "bf16": 1.0, "int8": MIN_DEFAULT_AGREEMENT}
    assert choose_default(speeds, agreement, "f32") == ("openvino", "f32", True)
    assert choose_default(speeds, agreement, "fastest") == ("openvino", "int8", True)
    agreement["int8"] = MIN_DEFAULT_AGREEMENT - 1e-3  # INT8 changes too many tags: bf16 is next
    assert choose_default(speeds, agreement, "fastest") == ("openvino", "bf16", False)
    # Static shapes must clearly beat dynamic ones (compilations, memory): 24 vs 25 ms does not.
    assert choose_default({**speeds, ("openvino", "f32", True): 24.0}, agreement, "f32") == ("openvino", "f32", False)
    assert choose_default({**speeds, ("openvino", "f32", True): 22.0}, agreement, "f32") == ("openvino", "f32", True)


def test_interleaved_timing_takes_turns_and_keeps_the_median_or_the_fastest_round(monkeypatch):
    """A busy spell (a slow round) moves medians of few rounds and never the fastest round; the
    warm-up round is not counted."""
    import bilstm_crf_ner.runtime.benchmark as benchmark

    clock, order = [0.0], []
    # seconds per call: round 0 (warm-up) and a busy spell in round 2 that hits only run "b"
    durations = {"a": [9.0, 1.0, 1.1, 1.2, 1.0, 1.1], "b": [9.0, 1.5, 4.0, 4.0, 1.4, 4.0]}

    def run(name):
        order.append(name)
        clock[0] += durations[name][sum(n == name for n in order) - 1]

    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: clock[0])
    runs = [lambda: run("a"), lambda: run("b")]
    assert benchmark.interleaved_ms(runs, 5) == pytest.approx([1100.0, 4000.0])
    assert order == ["a", "b"] * 6
    order.clear()
    assert benchmark.interleaved_ms(runs, 5, statistic="min") == pytest.approx([1000.0, 1400.0])
    with pytest.raises(ValueError, match="statistic"):
        benchmark.interleaved_ms(runs, 5, statistic="mean")


def test_interleaved_timing_opens_each_turn_with_an_untimed_warm_call(monkeypatch):
    """The warm call runs before every timed call of its run and its time is not counted (it
    soaks up the previous engine's spinning threads); a warm list of the wrong length is refused."""
    import bilstm_crf_ner.runtime.benchmark as benchmark

    clock, order = [0.0], []

    def call(name, seconds):
        order.append(name)
        clock[0] += seconds

    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: clock[0])
    runs = [lambda: call("a", 1.0), lambda: call("b", 2.0)]
    warm = [lambda: call("warm a", 50.0), lambda: call("warm b", 70.0)]
    assert benchmark.interleaved_ms(runs, 3, warm=warm) == pytest.approx([1000.0, 2000.0])
    assert order == ["warm a", "a", "warm b", "b"] * 4  # warm-up round + 3 timed rounds
    with pytest.raises(ValueError, match="one callable per run"):
        benchmark.interleaved_times(runs, 3, warm=warm[:1])


def test_bulk_timing_takes_turns_chunk_by_chunk(monkeypatch):
    """Engines tag the texts a chunk at a time in turns (each turn: untimed warm model call, the
    chunk's batches through the model, predict on the chunk); totals are the fastest round's,
    and a busy spell on one engine's turn moves its total but not the chunk-by-chunk ratio."""
    import bilstm_crf_ner.runtime.benchmark as benchmark

    clock, order = [0.0], []
    spell = {("b", 1, "predict")}  # round 1 (the second), chunk 1 of engine b runs 5x slower

    class Scorer:
        def __init__(self, name):
            self.name = name

        def emissions(self, ids):
            order.append((self.name, "warm"))

        def emissions_many(self, batches):
            order.append((self.name, "model"))
            clock[0] += 0.1 * len(batches)

    class Tagger:
        def __init__(self, name, seconds):
            self.name, self.seconds, self.calls = name, seconds, 0
            self.predictor = type("P", (), {"scorer": Scorer(name)})()

        def predict(self, texts, batch_size):
            self.calls += 1
            if self.calls == 1:  # the warm-up call before the rounds
                return
            chunk = (self.calls - 2) % 3
            order.append((self.name, "predict", tuple(texts)))
            slow = 5.0 if (self.name, chunk, "predict") in spell and 5 <= self.calls <= 7 else 1.0
            clock[0] += self.seconds * len(texts) * slow

    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(benchmark, "bulk_batches", lambda tagger, texts, batch_size: [list(texts)])
    texts = [f"t{i}" + "." * (4 - i) for i in range(5)]  # longest first: chunks are cut in order of length
    taggers = {"a": Tagger("a", 0.2), "b": Tagger("b", 0.1)}
    timed = benchmark.bulk_seconds(taggers, texts, rounds=2, batch_size=4, chunk_size=2)
    assert [entry[:2] for entry in order[:6]] == [("a", "warm"), ("a", "model"), ("a", "predict"),
                                                  ("b", "warm"), ("b", "model"), ("b", "predict")]
    chunks = [entry[2] for entry in order if entry[1] == "predict"]
    assert chunks[:2] == [(texts[4], texts[3])] * 2  # the shortest texts first, the same chunk in turn
    assert sorted(t for chunk in chunks[:6:2] for t in chunk) == sorted(texts)  # every text once per round
    assert timed["a"]["seconds"] == pytest.approx(1.0) and timed["b"]["seconds"] == pytest.approx(0.5)
    assert timed["a"]["model_seconds"] == pytest.approx(0.3)  # 3 chunks of one batch each
    assert len(timed["b"]["chunk_seconds"]) == 3  # 3 chunks of the second round (the first compiles static shapes)
    assert benchmark.paired_speedup(timed["a"]["chunk_seconds"], timed["b"]["chunk_seconds"]) == pytest.approx(2.0)
    clock[0], order[:] = 0.0, []
    taggers = {"a": Tagger("a", 0.2), "b": Tagger("b", 0.1)}
    once = benchmark.bulk_seconds(taggers, texts, rounds=1, batch_size=4, chunk_size=2)
    assert len(once["b"]["chunk_seconds"]) == 3  # a single round is all there is
    with pytest.raises(ValueError, match="chunk_size"):
        benchmark.bulk_seconds(taggers, texts, chunk_size=0)


def test_the_tokenize_decode_share_is_taken_round_by_round(monkeypatch):
    """A busy spell (everything 3x slower) over 5 of 8 rounds: the medians' difference is the
    slowed one, the share each round shows is not; a spell on a single call is outvoted; the
    first model call of each turn (slowed by the previous engine's spinning threads) is not timed."""
    from types import SimpleNamespace

    import bilstm_crf_ner.runtime.benchmark as benchmark

    clock, calls = [0.0], {"model": 0, "e2e": 0}
    slow_rounds = {5, 6, 7, 8}  # round 0 warms up; rounds 1-8 are timed (and round 4 below)
    lone_spell = 2  # an end-to-end call alone 20 ms slower

    def pace():
        return 3.0 if calls["e2e"] in slow_rounds | {4} else 1.0

    def emissions(ids):
        calls["model"] += 1
        clock[0] += 0.010 * pace() + (0.040 if calls["model"] % 2 else 0.0)

    def predict(texts, batch_size=None):
        clock[0] += 0.012 * pace() + (0.020 if calls["e2e"] == lone_spell else 0.0)
        calls["e2e"] += 1

    encoder = SimpleNamespace(tokenize=lambda text: (list(text), None),
                              encode_many=lambda tokens: [np.ones(len(t), np.int32) for t in tokens])
    tagger = SimpleNamespace(predictor=SimpleNamespace(encoder=encoder, scorer=SimpleNamespace(emissions=emissions)),
                             predict=predict)
    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: clock[0])
    timed = benchmark.measure(tagger, ["中国人民", "北京"], batch_size=2, repeats=8)
    assert timed["model_only_ms"] == pytest.approx(30.0) and timed["end_to_end_ms"] == pytest.approx(36.0)
    assert timed["tokenize_decode_share"] == pytest.approx(2 / 12)
    assert timed["tokenize_decode_ms"] == pytest.approx(6.0) and len(timed["end_to_end_rounds_ms"]) == 8


def test_paired_speedup_takes_ratios_round_by_round():
    """The machine runs at full speed, then at a third (a busy spell), then full again: each
    round's ratio is 2, while the medians' ratio is not and the minima's ratio could be anything."""
    from bilstm_crf_ner.runtime.benchmark import paired_speedup

    slow = [20.0, 20.0, 60.0, 60.0, 60.0, 20.0]
    fast = [10.0, 10.0, 30.0, 30.0, 30.0, 10.0]
    assert paired_speedup(slow, fast) == pytest.approx(2.0)
    assert paired_speedup(slow, slow[::-1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same number"):
        paired_speedup(slow, fast[:3])


def test_a_named_backend_gets_the_best_precision_it_has(exported, tmp_path):
    """An export whose default is INT8 on OpenVINO still loads with backend="onnxruntime" alone:
    the user named a backend, not a precision, so ONNX Runtime's f32 is taken (issue 15)."""
    _, path = exported
    int8_default = tmp_path / "int8_default"
    int8_default.mkdir()
    for item in path.iterdir():
        if item.is_file():
            (int8_default / item.name).write_bytes(item.read_bytes())
    metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    metadata.update(default_backend="openvino", default_precision="int8", int8={"xml": "model_int8.xml"})
    (int8_default / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    tagger = Tagger.load(int8_default, backend="onnxruntime")
    assert (tagger.backend.name, tagger.backend.precision) == ("onnxruntime", "f32")
    with pytest.raises(BackendError, match="no INT8 model for onnxruntime"):  # an explicit precision is honoured
        Tagger.load(int8_default, backend="onnxruntime", precision="int8")


def test_calibration_split_holds_out_every_fourth_sentence(trained, msra):
    from bilstm_crf_ner.export.exporter import split_calibration

    model, _ = trained
    sentences = msra[2][:20]
    calibration, held_out = split_calibration(model, sentences)
    assert sum(map(len, calibration[1])) == 15 and sum(map(len, held_out[1])) == 5
    assert sorted(n for lengths in held_out[1] for n in lengths) == sorted(len(s) for s in sentences[3::4])
    few_calibration, few_held_out = split_calibration(model, sentences[:5])
    assert few_held_out is few_calibration  # too few to split: recorded as not held out


def test_engine_table_names_only_faster_engines_that_keep_the_tags():
    from bilstm_crf_ner.export.exporter import engine_table

    f32, bf16, int8 = ("onnxruntime", "f32", False), ("openvino", "bf16", False), ("openvino", "int8", True)
    timed = {"16x128": {f32: 10.0, bf16: 6.0, int8: 4.0}, "workload": {f32: 100.0, bf16: 60.0, int8: 40.0}}
    table = engine_table(timed, {"f32": 1.0, "bf16": 0.999, "int8": 0.98}, f32)
    assert "f32 (default)" in table and "98.00%" in table  # every engine is listed with its agreement
    assert "faster but not exact: openvino bf16 (1.67x the default, 99.90% of tags equal f32)" in table  # not INT8
    assert "faster but not exact" not in engine_table(timed, {"f32": 1.0, "bf16": 0.9, "int8": 0.9}, f32)


def test_export_times_engines_end_to_end_on_the_workload(exported, msra, monkeypatch):
    """The default engine is chosen on the whole predict path (tokens -> ids -> engine -> Viterbi
    -> tags) over the workload sentences, every engine on all of them in every round."""
    from bilstm_crf_ner.core.predictor import Predictor
    from bilstm_crf_ner.export.exporter import time_engines
    from bilstm_crf_ner.runtime.backends import ONNXRuntimeBackend, OpenVINOBackend

    model, path = exported
    backends = {"onnxruntime": ONNXRuntimeBackend(path / "model.onnx"), "openvino": OpenVINOBackend(path / "model.xml")}
    texts = ["".join(tokens) for tokens in msra[2][:40]]
    expected = model.predict(texts)
    calls = []
    predict = Predictor.predict

    def spy(self, x, *args, **kwargs):
        out = predict(self, x, *args, **kwargs)
        calls.append((id(self.scorer.backend), list(x), out))
        return out

    monkeypatch.setattr(Predictor, "predict", spy)
    timed = time_engines(model, path, backends, {}, workload=texts, repeats=2)
    assert set(timed["workload"]) == set(timed["16x128"]) == {("onnxruntime", "f32", False), ("openvino", "f32", False)}
    assert all(ms > 0 for ms in timed["workload"].values())
    assert sorted(Counter(backend for backend, _, _ in calls).values()) == [3, 3]  # warm-up + 2 rounds each (warm calls: model only)
    assert all(x == texts and tags == expected for _, x, tags in calls)
