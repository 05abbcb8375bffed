"""The ``bilstm-crf-ner`` command line: every subcommand on a real MSRA model, and its errors."""

import io
import json
import subprocess
import sys

import pytest

from bilstm_crf_ner.cli import main
from bilstm_crf_ner.runtime import Tagger
from conftest import msra_dir

TEXTS = ["中共中央致中国致公党十一大的贺词", "", "国务院总理李鹏在北京会见了美国客人。"]


@pytest.fixture(scope="module")
def folders(trained, tmp_path_factory):
    """A saved model and its export (with INT8), made by the CLI's own export command."""
    model, _ = trained
    root = tmp_path_factory.mktemp("cli")
    saved = model.save(root / "model")
    assert main(["export", str(saved), str(root / "ir"), "--int8", str(msra_dir() / "test.bio"),
                 "--int8-samples", "64", "--no-measure", "-q"]) == 0
    return model, saved, root / "ir"


def run_cli(args, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_report_saves_model_and_plots(tmp_path, capsys):
    out = tmp_path / "m"
    code, stdout, _ = run_cli(["train", "--msra", str(msra_dir()), "--max-sentences", "300", "--epochs", "2",
                               "--embedding-dim", "16", "--bigram-dim", "8", "--lstm-units", "16", "--output", str(out),
                               "--lexicon", "jieba", "--lexicon-dim", "4",
                               "--plot", str(tmp_path / "curves.png"), "--report", str(tmp_path / "r.json"), "-q"], capsys)
    assert code == 0
    assert "micro avg" in stdout and "entity errors" in stdout and "entity F1:" in stdout
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["split"] == "test" and len(report["history"]["val_f1"]) == 2
    counts = report["errors"]["counts"]
    assert sum(counts[k] for k in counts if k != "spurious") == report["support"]  # every gold entity classified once
    from bilstm_crf_ner import BLSTMCRFModel

    loaded = BLSTMCRFModel.load(out)
    assert len(loaded.predict(["中国人"])[0]) == 3
    assert len(loaded.embedding.encoder.lexicon.words) > 300_000  # jieba's dictionary travels with the model


def test_predict_entities_and_conll_from_stdin_and_files(folders, tmp_path, capsys, monkeypatch):
    model, saved, ir = folders
    for folder in (saved, ir):
        code, stdout, _ = run_cli(["predict", str(folder), "-q"], capsys, "\n".join(TEXTS) + "\n", monkeypatch)
        assert code == 0
        lines = [json.loads(line) for line in stdout.splitlines()]
        assert [line["text"] for line in lines] == TEXTS  # one output per input line, empty ones too
        expected = [[e.to_dict() for e in s] for s in model.predict_entities(TEXTS)]
        got = [line["entities"] for line in lines]
        assert [[(e["type"], e["start"], e["end"]) for e in s] for s in got] == \
               [[(e["type"], e["start"], e["end"]) for e in s] for s in expected]
    conll = tmp_path / "in.conll"
    conll.write_text("中 O\n国 O\n\n北 O\n京 O\n欢 O\n", encoding="utf-8")
    out = tmp_path / "tags.conll"
    code, _, _ = run_cli(["predict", str(ir), str(conll), "--input-format", "conll", "--format", "conll",
                          "--tag-scheme", "BIOES", "--output", str(out), "-q"], capsys)
    assert code == 0
    blocks = [b.splitlines() for b in out.read_text(encoding="utf-8").strip().split("\n\n")]
    assert [[line.split()[0] for line in b] for b in blocks] == [["中", "国"], ["北", "京", "欢"]]
    assert [[line.split()[1] for line in b] for b in blocks] == model.predict([["中", "国"], ["北", "京", "欢"]],
                                                                             tag_scheme="BIOES")


def test_evaluate_saved_and_exported_models_agree(folders, tmp_path, capsys):
    _, saved, ir = folders
    scores = {}
    for name, folder, extra in (("keras", saved, []), ("ort", ir, ["--backend", "onnxruntime"])):
        report = tmp_path / f"{name}.json"
        code, stdout, _ = run_cli(["evaluate", str(folder), str(msra_dir()), "--max-sentences", "300",
                                   "--json", str(report), "-q", *extra], capsys)
        assert code == 0 and "wrong_boundary" in stdout
        scores[name] = json.loads(report.read_text())["f1"]
    assert scores["keras"] == scores["ort"]  # f32 export: identical tags, identical F1


def test_export_int8_and_runtime_precisions(folders, msra):
    model, _, ir = folders
    meta = json.loads((ir / "metadata.json").read_text())
    # 64 sentences: 48 calibrate, every 4th (16) measures the agreement
    assert meta["int8"]["calibration_sentences"] == 48 and meta["int8"]["kept_float"]
    assert meta["int8"]["agreement_sentences"] == 16 and meta["int8"]["agreement_held_out"]
    assert 0.9 <= meta["int8"]["token_agreement_with_f32"] <= 1.0
    int8 = Tagger.load(ir, precision="int8")
    sentences = msra[2][:100]
    tags = int8.predict(sentences)
    reference = model.predict(sentences)
    agreement = sum(a == b for s, t in zip(tags, reference) for a, b in zip(s, t)) / sum(map(len, reference))
    print(f"INT8 token agreement with Keras f32 on 100 MSRA test sentences: {agreement:.4f}")
    assert agreement > 0.95


def test_benchmark_table_and_json(folders, tmp_path, capsys):
    _, saved, ir = folders
    out = tmp_path / "speed.json"
    code, stdout, _ = run_cli(["benchmark", str(ir), "--data", str(msra_dir()), "--keras", str(saved), "--repeats", "2",
                               "--eval-sentences", "50", "--bulk-sentences", "120", "--bulk-rounds", "1", "--bulk-chunk", "50",
                               "--latency-sentences", "20", "--statistic", "min", "--json", str(out), "-q"], capsys)
    assert code == 0 and "sent/s" in stdout and "bulk s/s" in stdout and "fastest of 2 runs" in stdout
    written = json.loads(out.read_text())
    results = written["results"]
    assert written["cpu"] and written["statistic"] == "min"  # figures name the CPU and how they were taken
    for r in results:  # the whole mixed-length slice, and single-text latency percentiles
        assert r["bulk_sentences"] == 120 and r["bulk_sentences_per_s"] > 0 and r["bulk_chars_per_s"] > r["bulk_sentences_per_s"]
        assert r["bulk_model_s"] > 0 and 0 <= r["bulk_tokenize_decode_share"] < 1  # model alone, same batches
        assert len(r["bulk_chunk_s"]) == 3 and r["bulk_speedup_paired"] > 0  # 120 texts in turns of 50, one round
        assert r["latency_ms"]["count"] == 20 and 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p99"]
    engines = [(r["engine"], r["precision"]) for r in results]
    assert engines[0] == ("keras", "f32") and ("onnxruntime", "f32") in engines and ("openvino", "int8") in engines
    assert results[0]["speedup_paired"] == 1.0 and all(r["speedup_paired"] > 0 for r in results)
    for r in results:
        assert r["end_to_end_ms"] > 0 and 0 <= r["tokenize_decode_share"] < 1 and r["batch_shape"] == [16, 128]
        assert len(r["end_to_end_rounds_ms"]) == 2 and min(r["end_to_end_rounds_ms"]) == r["end_to_end_ms"]
    assert all(r["token_agreement"] == 1.0 for r in results if r["precision"] == "f32" and r["engine"] != "keras")


def test_benchmark_times_engines_with_row_streams(folders, tmp_path, capsys):
    """``:streams`` in an engine spec splits each batch's rows across one stream per core; the
    row says so, the table marks it /sN, and its tags agree with the plain engine's."""
    import os

    from bilstm_crf_ner.runtime import Tagger

    _, _, ir = folders
    out = tmp_path / "streams.json"
    code, stdout, _ = run_cli(["benchmark", str(ir), "--data", str(msra_dir()), "--engines",
                               "openvino:f32,openvino:f32:static:streams", "--repeats", "1", "--eval-sentences", "30",
                               "--bulk-sentences", "40", "--bulk-chunk", "20", "--latency-sentences", "0",
                               "--json", str(out), "-q"], capsys)
    assert code == 0
    plain, streamed = json.loads(out.read_text())["results"]
    threads = Tagger.load(ir, backend="openvino", streams=1).backend.compiled.get_property("INFERENCE_NUM_THREADS")
    expected = min(os.cpu_count() or 1, threads or os.cpu_count() or 1)  # one stream per inference thread
    assert plain["streams"] == 1 and streamed["streams"] == expected and streamed["static_shapes"]
    assert streamed["token_agreement"] == 1.0 and streamed["bulk_speedup_paired"] > 0
    assert expected == 1 or f"f32/st/s{expected}" in stdout


def test_user_mistakes_print_one_line_and_exit_2(folders, tmp_path, capsys, monkeypatch):
    _, saved, ir = folders
    bad = tmp_path / "bad.conll"
    bad.write_text("中 O\n国 X-LOC-\n", encoding="utf-8")
    cases = [
        (["predict", str(tmp_path / "nope"), "-q"], "model folder not found"),
        (["predict", str(tmp_path), "-q"], "neither a saved model"),
        (["evaluate", str(saved), str(bad), "-q"], "bad.conll:2: tag 'X-LOC-'"),
        (["evaluate", str(saved), str(tmp_path / "missing.conll"), "-q"], "not found"),
        (["train", "--output", str(tmp_path / "m"), "-q"], "no training data"),
        (["export", str(saved), str(tmp_path), "-q"], "not empty"),
        (["predict", str(saved), "--backend", "onnxruntime", "-q"], "saved Keras model"),
        (["evaluate", str(ir), str(msra_dir()), "--precision", "bf16", "--backend", "onnxruntime", "-q"], "runs f32 or int8"),
        (["benchmark", str(ir), "--data", str(msra_dir()), "--engines", "openvino:f32:fast", "-q"],
         "can only be 'static' and 'streams'"),
        (["benchmark", str(ir), "--data", str(msra_dir()), "--engines", "onnxruntime:f32:streams", "-q"],
         "are OpenVINO settings"),
        (["benchmark", str(ir), "--data", str(msra_dir()), "--bulk-chunk", "0", "-q"], "--bulk-chunk must be at least 1"),
    ]
    for args, message in cases:
        code, _, err = run_cli(args, capsys, "", monkeypatch)
        assert code == 2, (args, err)
        assert message in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err


def test_cli_on_an_export_does_not_import_tensorflow(folders, tmp_path):
    _, _, ir = folders
    code = ("import sys; from bilstm_crf_ner.cli import main; "
            f"rc = main(['predict', {str(ir)!r}, '-q']); "
            "print(rc, 'tensorflow' in sys.modules or 'keras' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], input="中国\n", capture_output=True, text=True, timeout=300)
    assert result.stderr.strip().splitlines()[-1] == "0 False", result.stderr[-2000:]
    assert json.loads(result.stdout)["text"] == "中国"


def test_console_script_help_lists_every_command():
    result = subprocess.run([sys.executable, "-m", "bilstm_crf_ner", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "export", "benchmark"):
        assert command in result.stdout
    for command in ("train", "evaluate", "predict", "export", "benchmark"):
        sub = subprocess.run([sys.executable, "-m", "bilstm_crf_ner", command, "--help"], capture_output=True, text=True,
                             timeout=120)
        assert sub.returncode == 0 and "examples:" in sub.stdout, command
