"""The compiled Viterbi of 1e2ecdc (one sequence at a time, vectorised over tags) against the
current one (the sequences of a batch in step, vectorised across them): equal paths and scores,
medians of 200 alternating calls at 13 tags.

    git show 1e2ecdc:bilstm_crf_ner/core/decoding_numba.py > /tmp/old_decoding_numba.py
    python benchmarks/results/exploration/viterbi_batched.py /tmp/old_decoding_numba.py
"""
import importlib.util
import sys
import time

import numpy as np

from bilstm_crf_ner.core import decoding_numba as new

spec = importlib.util.spec_from_file_location("old_decoding_numba", sys.argv[1])
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)
rng = np.random.default_rng(0)
K = 13
transitions, start, end = (rng.normal(size=s).astype(np.float32) for s in [(K, K), (K,), (K,)])
for batch, steps in ((16, 128), (64, 50), (64, 128), (1, 40)):
    emissions = rng.normal(size=(batch, steps, K)).astype(np.float32)
    lengths = rng.integers(steps // 2, steps + 1, batch)
    lengths[0] = steps
    a, b = old.viterbi_decode(emissions, lengths, transitions, start, end), new.viterbi_decode(emissions, lengths, transitions, start, end)
    assert all((x == y).all() for x, y in zip(a[0], b[0])) and (a[1] == b[1]).all()
    times = {"one sequence at a time": [], "batch in step": []}
    for _ in range(200):
        for name, decode in zip(times, (old.viterbi_decode, new.viterbi_decode)):
            begin = time.perf_counter()
            decode(emissions, lengths, transitions, start, end)
            times[name].append(1e3 * (time.perf_counter() - begin))
    print(f"{batch} x {steps}:", {name: round(float(np.median(t)), 3) for name, t in times.items()}, "ms")
