"""Experiment (tried in session 7, not kept): the compiled Viterbi with the sequences of a batch
in step, vectorised across them, against the library's (one sequence at a time, vectorised over
the tags): equal paths and scores asserted, medians of 200 alternating calls at 13 tags.

    python benchmarks/results/exploration/viterbi_batched.py
"""

import numba
import numpy as np

from bilstm_crf_ner.core.decoding_numba import viterbi_decode as one_at_a_time
from bilstm_crf_ner.runtime.benchmark import interleaved_ms


@numba.njit(nogil=True)
def _decode_in_step(emissions, lengths, transitions, start, end, tags, scores):
    # emissions time-major, [time, tag, batch]; steps past a sequence's end are never read back
    num_steps, num_tags, batch = emissions.shape
    steps = lengths.max() if batch else 0
    alpha = np.empty((max(steps, 1), num_tags, batch), dtype=np.float32)
    if steps:
        for k in range(num_tags):
            for b in range(batch):
                alpha[0, k, b] = start[k] + emissions[0, k, b]
    for t in range(1, steps):
        for j in range(num_tags):
            for b in range(batch):
                alpha[t, j, b] = alpha[t - 1, 0, b] + transitions[0, j]
        for i in range(1, num_tags):
            for j in range(num_tags):
                step = transitions[i, j]
                for b in range(batch):
                    alpha[t, j, b] = max(alpha[t, j, b], alpha[t - 1, i, b] + step)
        for j in range(num_tags):
            for b in range(batch):
                alpha[t, j, b] += emissions[t, j, b]
    for b in range(batch):
        length = lengths[b]
        if length == 0:
            scores[b] = np.float32(0.0)
            continue
        tag, best = 0, alpha[length - 1, 0, b] + end[0]
        for k in range(1, num_tags):
            value = alpha[length - 1, k, b] + end[k]
            if value > best:
                best, tag = value, k
        scores[b] = best
        tags[b, length - 1] = tag
        for t in range(length - 1, 0, -1):
            previous, best = 0, alpha[t - 1, 0, b] + transitions[0, tag]
            for i in range(1, num_tags):
                value = alpha[t - 1, i, b] + transitions[i, tag]
                if value > best:
                    best, previous = value, i
            tag = previous
            tags[b, t - 1] = tag


def in_step(emissions, lengths, transitions, start, end):
    tags = np.zeros(emissions.shape[:2], dtype=np.int64)
    scores = np.empty(emissions.shape[0], dtype=np.float32)
    _decode_in_step(np.ascontiguousarray(emissions.transpose(1, 2, 0)), lengths, transitions, start, end, tags, scores)
    return [tags[b, : lengths[b]] for b in range(len(lengths))], scores


rng = np.random.default_rng(0)
K = 13
transitions, start, end = (rng.normal(size=s).astype(np.float32) for s in [(K, K), (K,), (K,)])
for batch, steps in ((16, 128), (64, 50), (64, 128), (1, 40)):
    emissions = rng.normal(size=(batch, steps, K)).astype(np.float32)
    lengths = rng.integers(steps // 2, steps + 1, batch)
    lengths[0] = steps
    a, b = one_at_a_time(emissions, lengths, transitions, start, end), in_step(emissions, lengths, transitions, start, end)
    assert all((x == y).all() for x, y in zip(a[0], b[0])) and (a[1] == b[1]).all()
    medians = interleaved_ms([lambda d=d: d(emissions, lengths, transitions, start, end) for d in (one_at_a_time, in_step)],
                             200)
    print(f"{batch} x {steps}:", dict(zip(("one sequence at a time", "batch in step"), map(lambda ms: round(ms, 3), medians))),
          "ms")
