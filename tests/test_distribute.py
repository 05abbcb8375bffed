"""tf.distribute (MirroredStrategy on two logical CPU devices, MultiWorkerMirroredStrategy with two
worker processes on 127.0.0.1) and mixed precision."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, msra_dir

JOB = ROOT / "tests" / "distributed_job.py"


def _run(mode, output, env=None, worker=0):
    return subprocess.Popen([sys.executable, str(JOB), mode, str(output), str(worker)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "MSRA_DIR": str(msra_dir()), **(env or {})})


def _finish(process, timeout=600):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    output = tmp_path_factory.mktemp("single")
    _finish(_run("single", output))
    return json.loads((output / "result0.json").read_text())


def _same_trend(losses, reference):
    assert losses[-1] < losses[0] / 3 and reference[-1] < reference[0] / 3
    for got, expected in zip(losses, reference):
        assert abs(got - expected) < 0.2 * expected, (losses, reference)


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpu_devices(single, tmp_path, msra):
    _finish(_run("mirrored", tmp_path))
    result = json.loads((tmp_path / "result0.json").read_text())
    assert result["replicas"] == 2
    _same_trend(result["loss"], single["loss"])
    from bilstm_crf_ner import BLSTMCRFModel

    loaded = BLSTMCRFModel.load(tmp_path / "model")
    assert loaded.predict(msra[2][:50]) == result["predictions"]


@pytest.mark.slow
def test_multi_worker_mirrored_strategy_with_two_local_workers(single, tmp_path, msra):
    ports = [_free_port(), _free_port()]
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
        workers.append(_run("worker", tmp_path, {"TF_CONFIG": json.dumps(config)}, worker=index))
    for process in workers:
        _finish(process)
    first, second = (json.loads((tmp_path / f"result{i}.json").read_text()) for i in range(2))
    assert first["replicas"] == second["replicas"] == 2
    assert first["loss"] == second["loss"] and first["predictions"] == second["predictions"]  # weights in sync
    _same_trend(first["loss"], single["loss"])
    from bilstm_crf_ner import BLSTMCRFModel

    assert BLSTMCRFModel.load(tmp_path / "model").predict(msra[2][:50]) == first["predictions"]


def test_mixed_bfloat16_keeps_the_crf_in_float32(msra, tmp_path):
    from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, ConfigError
    from bilstm_crf_ner.runtime import Tagger

    with pytest.raises(ConfigError, match="mixed_precision"):
        BLSTMCRFModel(mixed_precision="float8")
    x, y = msra[0][:1500], msra[1][:1500]
    losses = {}
    for policy in (None, "mixed_bfloat16"):
        model = BLSTMCRFModel(BareEmbedding(embedding_dim=32), lstm_units=32, learning_rate=5e-3, seed=3,
                              mixed_precision=policy)
        losses[policy] = model.fit(x, y, epochs=3, batch_size=32, verbose=0).history["loss"]
    network = model.network
    assert network.rnns[0].forward_lstm.compute_dtype == "bfloat16"
    assert network.emission.compute_dtype == "float32" and network.crf.compute_dtype == "float32"
    assert all(v.dtype == "float32" for v in network.weights)
    _same_trend(losses["mixed_bfloat16"], losses[None])
    model.save(tmp_path / "model")
    loaded = BLSTMCRFModel.load(tmp_path / "model")
    assert loaded.mixed_precision == "mixed_bfloat16" and loaded.predict(msra[2][:40]) == model.predict(msra[2][:40])
    model.export(tmp_path / "ir", measure=False)  # exported in float32 from the same weights
    tags = Tagger.load(tmp_path / "ir", backend="onnxruntime").predict(msra[2][:200])
    expected = model.predict(msra[2][:200])
    agreement = np.mean([a == b for s, e in zip(tags, expected) for a, b in zip(s, e)])
    assert agreement > 0.99, agreement
