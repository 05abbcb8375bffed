"""Training jobs run in subprocesses by test_distribute.py (TensorFlow's devices and cluster
must be configured before TensorFlow starts, so they cannot run inside the test process).

    python distributed_job.py single|mirrored|worker OUTPUT_DIR [WORKER_INDEX]

Trains a small character BiLSTM-CRF on an MSRA slice, then writes the per-epoch losses, the
predictions on a test slice, and (except on a secondary worker) the saved model to OUTPUT_DIR.
"""

import json
import os
import sys
from pathlib import Path


def main(mode, output, worker=0):
    import tensorflow as tf

    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    elif mode == "worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = None
    from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, read_conll

    data = Path(os.environ["MSRA_DIR"])
    x, y = read_conll(data / "train.bio")
    test_x, _ = read_conll(data / "test.bio")
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=32), lstm_units=32, learning_rate=5e-3, seed=3, strategy=strategy)
    history = model.fit(x[:1024], y[:1024], epochs=3, batch_size=32, verbose=0)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    result = {"loss": history.history["loss"], "replicas": strategy.num_replicas_in_sync if strategy else 1,
              "predictions": model.predict(test_x[:50])}
    (output / f"result{worker}.json").write_text(json.dumps(result))
    if worker == 0:
        model.save(output / "model")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
