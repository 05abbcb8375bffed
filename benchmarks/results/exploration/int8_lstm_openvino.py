"""Experiment: does OpenVINO's CPU plugin run a quantized LSTMSequence as an int8 RNN, and does
it keep the tags?  (#15 item 2, "find out".)

    python benchmarks/results/exploration/int8_lstm_openvino.py toy [c|t]
    python benchmarks/results/exploration/int8_lstm_openvino.py EXPORT_DIR xh[t|g]

``toy``: one forward LSTMSequence (16 x 64 x 240 -> 256, random Keras-like weights, inputs in
[-0.65, 0.74] like the lexicon model's embeddings) with FakeQuantize on X and the initial H
(u8, one range [-1, 1] holding both: oneDNN's int8 RNN uses one data scale and shift for the
layer input and the hidden state) and on W and R (i8, per output channel ``c`` or per tensor
``t``; ``x``: no quantizer on H; ``s``: static shapes), against the f32 op and a numpy emulation of the same quantization (X, W, R and every
step's h on their grids, f32 accumulation).

``EXPORT_DIR``: the same FakeQuantize ops inserted into an export's f32 IR (``model.xml``; X's
range from 400 MSRA train sentences, widened to hold [-1, 1]); prints the LSTM nodes' runtime
precision, how often the best tag per token equals the f32 IR's on 400 test sentences, and
medians of 25 interleaved calls at the last 16-sentence test batch against f32 and bf16. Mode
letters: ``x`` / ``h`` put quantizers on X / H (W and R always); ``t`` per-tensor weights, ``g``
per-gate weights.
"""
import sys

import numpy as np
import openvino as ov
from openvino import opset13 as op


def const(a):
    return op.constant(np.asarray(a, dtype=np.float32))


def fq(value, low, high, levels):
    return op.fake_quantize(value, const(low), const(high), const(low), const(high), levels)


def weight_range(w, mode):
    if "t" in mode:
        return np.full((1, w.shape[1], 1), np.abs(w).max(), np.float32)
    if "g" in mode:
        return np.abs(w).reshape(1, 4, -1).max(axis=2).repeat(w.shape[1] // 4).reshape(1, -1, 1)
    return np.abs(w).max(axis=2, keepdims=True)


def rnn_precisions(compiled):
    return [o.get_rt_info()["runtimePrecision"].astype(str) for o in compiled.get_runtime_model().get_ops()
            if o.get_rt_info()["layerType"].astype(str) == "RNNSeq"]


def toy(mode):
    rng = np.random.default_rng(0)
    n, steps, inputs, hidden = 16, 64, 240, 256
    w = rng.normal(0, (2 / (inputs + 4 * hidden)) ** .5, (1, 4 * hidden, inputs)).astype(np.float32)
    r = rng.normal(0, (1 / hidden) ** .5, (1, 4 * hidden, hidden)).astype(np.float32)
    b = rng.normal(0, .1, (1, 4 * hidden)).astype(np.float32)
    x_data = rng.uniform(-0.65, 0.74, (n, steps, inputs)).astype(np.float32)
    x = op.parameter([-1, -1, inputs], np.float32)
    shape = op.shape_of(x)
    batch = op.gather(shape, op.constant([0]), op.constant(0))
    zeros = op.broadcast(op.constant(np.float32(0)), op.concat([batch, op.constant([1, hidden], dtype=np.int64)], 0))
    lengths = op.broadcast(op.gather(shape, op.constant([1]), op.constant(0)), batch)
    wr, rr = weight_range(w, mode), weight_range(r, mode)
    state = zeros if "x" in mode else fq(zeros, -1, 1, 256)  # "x": a quantizer on X only
    quantized = op.lstm_sequence(fq(x, -1, 1, 256), state, zeros, lengths,
                                 fq(const(w), -wr, wr, 255), fq(const(r), -rr, rr, 255), const(b), hidden, "forward")
    plain = op.lstm_sequence(x, zeros, zeros, lengths, const(w), const(r), const(b), hidden, "forward")
    core = ov.Core()
    quantized_model = ov.Model([quantized.output(0)], [x])
    if "s" in mode:  # static shapes: the zero state folds into a constant
        quantized_model.reshape({0: [n, steps, inputs]})
    try:
        q = core.compile_model(quantized_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    except RuntimeError as error:
        print("the CPU plugin refuses it:", str(error).strip().splitlines()[-1])
        return
    f = core.compile_model(ov.Model([plain.output(0)], [x]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    print("runtime precision of the quantized LSTM:", rnn_precisions(q))
    yq, yf = q({0: x_data})[0][:, 0], f({0: x_data})[0][:, 0]

    def grid(v, low, high, levels):
        step = (high - low) / (levels - 1)
        return np.round((np.clip(v, low, high) - low) / step) * step + low

    def emulate(wm, rm, quantize):
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        h, c, ys = np.zeros((n, hidden), np.float32), np.zeros((n, hidden), np.float32), []
        xs = grid(x_data, -1, 1, 256) if quantize else x_data
        for t in range(steps):
            z = xs[:, t] @ wm.T + (grid(h, -1, 1, 256) if quantize else h) @ rm.T + b[0]
            f_, i_, c_, o_ = np.split(z, 4, axis=1)  # OpenVINO's gate order
            c = sig(f_) * c + sig(i_) * np.tanh(c_)
            h = sig(o_) * np.tanh(c)
            ys.append(h)
        return np.stack(ys, 1)

    exact = emulate(w[0], r[0], False)
    ideal = emulate(grid(w, -wr, wr, 255)[0], grid(r, -rr, rr, 255)[0], True)
    print("f32 op vs numpy f32, max |diff|:", float(np.abs(yf - exact).max()))
    for t in (0, 1, 8, steps - 1):
        print(f"step {t}: mean |h - f32 h|: plugin int8 {np.abs(yq[:, t] - yf[:, t]).mean():.5f}, "
              f"emulated int8 {np.abs(ideal[:, t] - exact[:, t]).mean():.5f}")
    print("distinct values of the plugin's h at step 0:", len(np.unique(yq[:, 0])), "of", yq[:, 0].size)


def export_run(export, mode):
    sys.path.insert(0, "benchmarks")
    from ir_fusion import padded_batch  # the benchmarks' own (ids, lengths) builder
    from bilstm_crf_ner.corpus import msra_files, read_conll
    from bilstm_crf_ner.runtime import Tagger
    from bilstm_crf_ner.runtime.benchmark import interleaved_ms

    core = ov.Core()
    encoder = Tagger.load(export, backend="openvino", precision="f32").predictor.encoder
    corpus = msra_files("../shared/data/msra")

    def batches(split):
        texts = sorted((t[:200] for t in ("".join(s) for s in read_conll(corpus[split])[0][:400]) if t), key=len)
        return [padded_batch(encoder, texts[i:i + 16]) for i in range(0, len(texts), 16)]

    calibration, held_out = batches("train"), batches("test")
    probe = core.read_model(f"{export}/model.xml")
    probe.add_outputs([o.input_value(0) for o in probe.get_ops() if o.get_type_name() == "LSTMSequence"])
    request = core.compile_model(probe, "CPU").create_infer_request()
    low, high = np.inf, -np.inf
    for ids, _ in calibration:
        for x in list(request.infer({0: ids}).values())[1:]:
            low, high = min(low, float(x.min())), max(high, float(x.max()))
    low, high = min(low, -1.0), max(high, 1.0)  # h shares the range
    step = (high - low) / 255
    low, high = -round(-low / step) * step, (255 - round(-low / step)) * step  # 0 exactly on the grid
    print(f"X range (widened, zero aligned): [{low:.3f}, {high:.3f}]")

    model = core.read_model(f"{export}/model.xml")
    for lstm in [o for o in model.get_ops() if o.get_type_name() == "LSTMSequence"]:
        for port in (0, 1):
            if "xh"[port] in mode:
                lstm.input(port).replace_source_output(fq(lstm.input_value(port), low, high, 256).output(0))
        for port in (4, 5):
            wr = weight_range(lstm.input_value(port).get_node().get_data(), mode)
            lstm.input(port).replace_source_output(fq(lstm.input_value(port), -wr, wr, 255).output(0))
    model.validate_nodes_and_infer_types()
    engines = {f"{kind} {hint}": core.compile_model(core.read_model(f"{export}/model.xml") if kind == "float" else model,
                                                    "CPU", {"INFERENCE_PRECISION_HINT": hint})
               for kind in ("float", "int8-lstm") for hint in ("f32", "bf16")}
    print("runtime precision of the LSTMs:", rnn_precisions(engines["int8-lstm f32"]))
    reference = engines["float f32"]
    for name, compiled in engines.items():
        equal = total = 0
        for ids, lengths in held_out:
            a, b = reference(ids)[0], compiled(ids)[0]
            for row, length in enumerate(lengths):
                equal += int((a[row, :length].argmax(-1) == b[row, :length].argmax(-1)).sum())
                total += length
        print(f"{name}: best tag = f32 on {100 * equal / total:.2f}% of {total} tokens")
    ids = held_out[-1][0]
    runs = [lambda r=c.create_infer_request(): r.infer({0: ids}) for c in engines.values()]
    medians = interleaved_ms(runs, 25, warm=runs)  # each turn opens with an untimed call
    print(f"batch {ids.shape[:2]}, medians of 25 interleaved calls (ms):",
          {name: round(ms, 2) for name, ms in zip(engines, medians)})


if __name__ == "__main__":
    if sys.argv[1] == "toy":
        toy(sys.argv[2] if len(sys.argv) > 2 else "c")
    else:
        export_run(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "xh")
