"""Experiment: why the INT8 BERT's FFN intermediate product (256 -> 1024) takes about twice the
time of its output product (1024 -> 256), the same multiply-adds.

    python benchmarks/results/exploration/ffn_intermediate_fc.py

Toy on the BERT 4x256 shapes (2,080 = 16 x 130 rows): u8 x i8 FullyConnected 256 -> 1024 with the
post-op chains the INT8 IR gives it (bias; + erf GELU; + the next product's u8 quantizer,
symmetric / asymmetric / per channel; + SmoothQuant's per-channel scale), then the 1024 -> 256
product; OpenVINO's per-op profile (bf16 float parts), medians of 25 calls after 5.
"""
import sys
from collections import defaultdict

import numpy as np
import openvino as ov
from openvino import opset13 as op

sys.path.insert(0, "benchmarks/results/exploration")
from int8_lstm_openvino import const, fq  # noqa: E402

rng = np.random.default_rng(0)
M, K, N = 2080, 256, 1024
W1, W2 = rng.normal(0, .05, (N, K)).astype(np.float32), rng.normal(0, .05, (K, N)).astype(np.float32)
BIAS, SMOOTH = rng.normal(0, .1, N), rng.uniform(0.5, 2, N)
CHANNEL_LOW, CHANNEL_HIGH = -rng.uniform(1, 3, N), rng.uniform(1, 3, N)
VARIANTS = ["none", "gelu", "gelu_fq", "gelu_fq_asym", "gelu_sq_fq_asym", "fq", "gelu_fqpc"]


def build(variant):
    x = op.parameter([M, K], np.float32)
    w1, w2 = np.abs(W1).max(1, keepdims=True), np.abs(W2).max(1, keepdims=True)
    h = op.add(op.matmul(fq(x, -4, 4, 256), fq(const(W1), -w1, w1, 255), False, True), const(BIAS))
    if "gelu" in variant:
        h = op.gelu(h, "erf")
    if "sq" in variant:
        h = op.multiply(h, const(SMOOTH))
    if "fqpc" in variant:
        h = fq(h, CHANNEL_LOW, CHANNEL_HIGH, 256)
    elif "fq" in variant:
        h = fq(h, -0.2 if "asym" in variant else -3, 3, 256)
    return ov.Model([op.matmul(h, fq(const(W2), -w2, w2, 255), False, True).output(0)], [x])


core = ov.Core()
requests = {v: core.compile_model(build(v), "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERF_COUNT": True})
            .create_infer_request() for v in VARIANTS}
x = rng.normal(0, 1, (M, K)).astype(np.float32)
times = {v: defaultdict(list) for v in VARIANTS}
for call in range(30):
    for variant, request in requests.items():
        request.infer({0: x})
        if call >= 5:
            for p in request.profiling_info:
                if p.node_type in ("FullyConnected", "Subgraph"):
                    times[variant][(p.node_name, p.node_type, p.exec_type)].append(p.real_time.total_seconds() * 1e3)
for variant in VARIANTS:
    print(variant, [(kind, kernel, round(float(np.median(ms)), 3))
                    for (_, kind, kernel), ms in times[variant].items() if np.median(ms) > 0.02])
