"""The README's main job, on a slice, so it cannot rot."""

import subprocess
import sys

from conftest import ROOT, msra_dir


def test_train_msra_example_runs_end_to_end(tmp_path):
    out = tmp_path / "model"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_msra.py"), "--data-dir", str(msra_dir()), "--epochs", "1",
         "--max-sentences", "400", "--max-test-sentences", "200", "--embedding-dim", "16", "--lstm-units", "16",
         "--output", str(out), "--quiet"],
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
    from bilstm_crf_ner.bert.wordpiece import read_vocab

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
