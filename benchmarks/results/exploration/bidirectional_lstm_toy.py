import numpy as np, openvino as ov, time
import openvino.opset13 as ops
B, T, C, H = 16, 128, 256, 128
rng = np.random.default_rng(0)
def lstm(x, lengths, direction, D):
    W = ops.constant(rng.standard_normal((D, 4*H, C)).astype(np.float32)*0.05)
    R = ops.constant(rng.standard_normal((D, 4*H, H)).astype(np.float32)*0.05)
    Bb = ops.constant(np.zeros((D, 4*H), np.float32))
    h0 = ops.constant(np.zeros((B, D, H), np.float32)); c0 = ops.constant(np.zeros((B, D, H), np.float32))
    return ops.lstm_sequence(x, h0, c0, lengths, W, R, Bb, H, direction)
x = ops.parameter([B, T, C], np.float32, name="x")
lens = ops.constant(np.full(B, T, np.int32))
# two forward sequences (as now, without the gathers)
a = lstm(x, lens, "forward", 1); b = lstm(x, lens, "forward", 1)
two = ov.Model([ops.concat([ops.squeeze(a.output(0), [1]), ops.squeeze(b.output(0), [1])], -1)], [x])
x2 = ops.parameter([B, T, C], np.float32, name="x"); lens2 = ops.constant(np.full(B, T, np.int32))
bi = lstm(x2, lens2, "bidirectional", 2)  # [B, 2, T, H]
out = ops.reshape(ops.transpose(bi.output(0), [0, 2, 1, 3]), [B, T, 2*H], False)
one = ov.Model([out], [x2])
core = ov.Core()
xv = rng.standard_normal((B, T, C)).astype(np.float32); lv = np.full(B, T, np.int32)
for hint in ("bf16", "f32"):
    reqs = {n: core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint}).create_infer_request() for n, m in (("two", two), ("bi", one))}
    ts = {n: [] for n in reqs}
    for r in reqs.values():
        for _ in range(3): r.infer([xv])
    for _ in range(30):
        for n, r in reqs.items():
            t = time.perf_counter(); r.infer([xv]); ts[n].append((time.perf_counter()-t)*1e3)
    print(hint, {n: (round(min(v),2), round(float(np.median(v)),2)) for n, v in ts.items()})
