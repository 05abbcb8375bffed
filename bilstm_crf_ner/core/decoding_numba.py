"""Viterbi decoding compiled with numba: the numpy decoder's paths and scores, without its Python loop.

The numpy decoder (:func:`bilstm_crf_ner.core.decoding.viterbi_decode_numpy`) spends most of
its time in a Python loop of three numpy calls per step (about 1.1-1.5 ms for 16 x 128 tokens
and 13 tags, the largest part of a character model's decoding). Here each sequence runs as
machine code: the same float32 sums (a maximum does not depend on the order it is taken in), ties
to the first index when tracing back, so paths and scores are identical (``tests/test_decoding.py``
holds them to it). numba is an optional extra (``bilstm_crf_ner[fast]``); compiled code is cached
on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _decode(emissions, lengths, transitions, start, end, tags, scores):  # pragma: no cover - compiled
    num_tags = emissions.shape[2]
    alpha = np.empty((emissions.shape[1], num_tags), dtype=np.float32)  # best score ending in each tag
    for b in range(emissions.shape[0]):
        length = lengths[b]
        if length == 0:
            scores[b] = np.float32(0.0)
            continue
        for k in range(num_tags):
            alpha[0, k] = start[k] + emissions[b, 0, k]
        for t in range(1, length):
            # Row by row of the transitions, every "to" tag at once (contiguous, so the compiler
            # vectorises it): the same maxima as a column scan, as a maximum does not depend on order.
            for j in range(num_tags):
                alpha[t, j] = alpha[t - 1, 0] + transitions[0, j]
            for i in range(1, num_tags):
                score = alpha[t - 1, i]
                for j in range(num_tags):
                    alpha[t, j] = max(alpha[t, j], score + transitions[i, j])
            for j in range(num_tags):
                alpha[t, j] += emissions[b, t, j]
        tag = 0
        best = alpha[length - 1, 0] + end[0]
        for k in range(1, num_tags):
            value = alpha[length - 1, k] + end[k]
            if value > best:
                best, tag = value, k
        scores[b] = best
        tags[b, length - 1] = tag
        for t in range(length - 1, 0, -1):
            previous = 0
            best = alpha[t - 1, 0] + transitions[0, tag]
            for i in range(1, num_tags):
                value = alpha[t - 1, i] + transitions[i, tag]
                if value > best:
                    best, previous = value, i
            tag = previous
            tags[b, t - 1] = tag


def viterbi_decode(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray,
                   end: np.ndarray):
    """``(paths, scores)`` as :func:`bilstm_crf_ner.core.decoding.viterbi_decode`; float32 inputs."""
    batch, time = emissions.shape[:2]
    tags = np.zeros((batch, time), dtype=np.int64)
    scores = np.empty(batch, dtype=np.float32)
    _decode(np.ascontiguousarray(emissions), np.ascontiguousarray(lengths), np.ascontiguousarray(transitions),
            np.ascontiguousarray(start), np.ascontiguousarray(end), tags, scores)
    return [tags[b, : lengths[b]] for b in range(batch)], scores
