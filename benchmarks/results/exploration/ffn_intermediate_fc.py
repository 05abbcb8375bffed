"""Experiment: why the INT8 BERT's FFN intermediate product (256 -> 1024) takes about twice the
time of its output product (1024 -> 256), the same multiply-adds.

    python benchmarks/results/exploration/ffn_intermediate_fc.py

Toy on the BERT 4x256 shapes (2,080 = 16 x 130 rows): u8 x i8 FullyConnected 256 -> 1024 with the
post-op chains the INT8 IR gives it (bias; + erf GELU; + the next product's u8 quantizer,
symmetric / asymmetric / per channel; + SmoothQuant's per-channel scale), then the 1024 -> 256
product; OpenVINO's per-op profile (bf16 float parts), medians of 25 calls after 5.
"""
import time, numpy as np, openvino as ov
from openvino import opset13 as op
rng = np.random.default_rng(0)
M, K, N = 2080, 256, 1024
c = lambda a: op.constant(np.asarray(a, dtype=np.float32))
def fq(v, lo, hi, levels=256): return op.fake_quantize(v, c(lo), c(hi), c(lo), c(hi), levels)
W1 = rng.normal(0, .05, (N, K)).astype(np.float32); W2 = rng.normal(0, .05, (K, N)).astype(np.float32)
def build(variant):
    x = op.parameter([M, K], np.float32)
    w1r = np.abs(W1).max(1, keepdims=True); w2r = np.abs(W2).max(1, keepdims=True)
    h = op.matmul(fq(x, -4, 4), fq(c(W1), -w1r, w1r, 255), False, True)
    h = op.add(h, c(rng.normal(0, .1, N)))
    if "gelu" in variant: h = op.gelu(h, "erf")
    if "sq" in variant: h = op.multiply(h, c(rng.uniform(0.5, 2, N)))
    if "fqpc" in variant: h = fq(h, -rng.uniform(1, 3, N), rng.uniform(1, 3, N))
    elif "fq" in variant: h = fq(h, -3, 3) if "asym" not in variant else fq(h, -0.2, 3)
    y = op.matmul(h, fq(c(W2), -w2r, w2r, 255), False, True)
    return ov.Model([y.output(0)], [x])
core = ov.Core()
variants = ["none", "gelu", "gelu_fq", "gelu_fq_asym", "gelu_sq_fq_asym", "fq", "gelu_fqpc"]
reqs = {v: core.compile_model(build(v), "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERF_COUNT": True}).create_infer_request() for v in variants}
X = rng.normal(0, 1, (M, K)).astype(np.float32)
t = {v: [] for v in variants}
for i in range(30):  # 5 warm-up calls, 25 kept
    for v, r in reqs.items():
        r.infer({0: X})
        t[v].append([(p.node_type, p.exec_type, p.real_time.total_seconds() * 1e3) for p in r.profiling_info if p.real_time.total_seconds() > 2e-5])
for v in variants:
    rows = {}
    for call in t[v][5:]:
        for k, (ty, ex, ms) in enumerate(call):
            rows.setdefault((k, ty, ex), []).append(ms)
    print(v, [(ty, ex, round(float(np.median(ms)), 3)) for (k, ty, ex), ms in rows.items()])
