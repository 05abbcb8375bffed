"""A runtime-only install: ``pip install bilstm_crf_ner[runtime]`` in a fresh virtual environment
brings no TensorFlow, tags with an exported model, and explains what training would need."""

import json
import subprocess
import venv

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_runtime_only_install_tags_without_tensorflow(trained, tmp_path):
    model, _ = trained
    ir = model.export(tmp_path / "ir", measure=False)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{ROOT}[runtime]"],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    names = {line.split("==")[0].lower() for line in listed.splitlines()}
    assert {"openvino", "onnxruntime", "numpy", "tokenizers"} <= names
    assert not names & {"tensorflow", "keras", "keras-hub", "tf2onnx", "seqeval"}, names

    cli = env_dir / "bin" / "bilstm-crf-ner"
    tagged = subprocess.run([str(cli), "predict", str(ir), "-q"], input="中共中央致中国致公党十一大的贺词\n",
                            capture_output=True, text=True, timeout=300)
    assert tagged.returncode == 0, tagged.stderr[-2000:]
    expected = [[(e.type, e.start, e.end) for e in model.predict_entities(["中共中央致中国致公党十一大的贺词"])[0]]]
    assert [[(e["type"], e["start"], e["end"]) for e in json.loads(tagged.stdout)["entities"]]] == expected
    train = subprocess.run([str(cli), "train", "--train", str(tmp_path / "x.conll"), "--output", str(tmp_path / "m"), "-q"],
                           capture_output=True, text=True, timeout=300)
    assert train.returncode == 2 and 'pip install "bilstm_crf_ner[train]"' in train.stderr, train.stderr
    assert "Traceback" not in train.stderr
    api = subprocess.run([str(python), "-c", "from bilstm_crf_ner import BLSTMCRFModel"], capture_output=True, text=True)
    assert api.returncode == 1 and "bilstm_crf_ner[train]" in api.stderr


def test_missing_training_dependency_message():
    from bilstm_crf_ner.core.errors import missing_dependency

    assert "bilstm_crf_ner[train]" in str(missing_dependency(ModuleNotFoundError("x", name="tensorflow.python")))
    assert "pip install seqeval" in str(missing_dependency(ModuleNotFoundError("x", name="seqeval")))
    assert "bilstm_crf_ner[export]" in str(missing_dependency(ModuleNotFoundError("x", name="tf2onnx")))
    assert missing_dependency(ModuleNotFoundError("x", name="requests")) is None
