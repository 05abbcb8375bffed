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
