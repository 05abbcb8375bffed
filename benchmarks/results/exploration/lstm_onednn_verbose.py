"""Which oneDNN kernel runs OpenVINO's LSTMSequence (64 x 38 x 240 -> 256, f32 and bf16 hints):
OpenVINO's profile names the node's kernel `ref_any_*`; oneDNN's own log names the primitive.

    ONEDNN_VERBOSE=1 python benchmarks/results/exploration/lstm_onednn_verbose.py 2>&1 | grep "rnn\\|LSTM"
"""
import numpy as np
import openvino as ov
from openvino import opset13 as op

rng = np.random.default_rng(0)
inputs, hidden = 240, 256


def const(a):
    return op.constant(np.asarray(a, dtype=np.float32))


x = op.parameter([-1, -1, inputs], np.float32)
shape = op.shape_of(x)
batch = op.gather(shape, op.constant([0]), op.constant(0))
zeros = op.broadcast(op.constant(np.float32(0)), op.concat([batch, op.constant([1, hidden], dtype=np.int64)], 0))
lengths = op.broadcast(op.gather(shape, op.constant([1]), op.constant(0)), batch)
lstm = op.lstm_sequence(x, zeros, zeros, lengths, const(rng.normal(0, .05, (1, 4 * hidden, inputs))),
                        const(rng.normal(0, .05, (1, 4 * hidden, hidden))), const(np.zeros((1, 4 * hidden))), hidden,
                        "forward")
model = ov.Model([lstm.output(0)], [x])
for hint in ("f32", "bf16"):
    request = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERF_COUNT": True}) \
        .create_infer_request()
    request.infer({0: rng.normal(size=(64, 38, inputs)).astype(np.float32)})
    print(hint, [(p.node_type, p.exec_type) for p in request.profiling_info if p.node_type == "LSTMSequence"])
