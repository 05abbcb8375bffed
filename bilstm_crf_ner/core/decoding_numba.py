"""Viterbi decoding compiled with numba: the numpy decoder's paths and scores, without its Python loop.

The numpy decoder (:func:`bilstm_crf_ner.core.decoding.viterbi_decode_numpy`) spends most of
its time in a Python loop of three numpy calls per step (about 1.1-1.5 ms for 16 x 128 tokens
and 13 tags, the largest part of a character model's decoding). Here it runs as machine code,
the sequences of a batch in step (vectorised across them): the same float32 sums (a maximum
does not depend on the order it is taken in), ties to the first index when tracing back, so
paths and scores are identical (``tests/test_decoding.py`` holds them to it). numba is an optional extra (``bilstm_crf_ner[fast]``); compiled code is cached
on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _decode(emissions, lengths, transitions, start, end, tags, scores):  # pragma: no cover - compiled
    # emissions is time-major here, [time, tag, batch]: the forward pass runs all sequences of the
    # batch in step, the batch innermost and contiguous, so the compiler vectorises across
    # sequences (a 13-tag row is too short to fill a vector). Steps past a sequence's end compute
    # values nothing reads: its trace-back starts at its own last step.
    num_steps, num_tags, batch = emissions.shape
    steps = lengths.max() if batch else 0
    alpha = np.empty((max(steps, 1), num_tags, batch), dtype=np.float32)  # best score ending in each tag
    if steps:
        for k in range(num_tags):
            for b in range(batch):
                alpha[0, k, b] = start[k] + emissions[0, k, b]
    for t in range(1, steps):
        for j in range(num_tags):
            step = transitions[0, j]
            for b in range(batch):
                alpha[t, j, b] = alpha[t - 1, 0, b] + step
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
        tag = 0
        best = alpha[length - 1, 0, b] + end[0]
        for k in range(1, num_tags):
            value = alpha[length - 1, k, b] + end[k]
            if value > best:
                best, tag = value, k
        scores[b] = best
        tags[b, length - 1] = tag
        for t in range(length - 1, 0, -1):
            previous = 0
            best = alpha[t - 1, 0, b] + transitions[0, tag]
            for i in range(1, num_tags):
                value = alpha[t - 1, i, b] + transitions[i, tag]
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
    _decode(np.ascontiguousarray(emissions.transpose(1, 2, 0)), np.ascontiguousarray(lengths),
            np.ascontiguousarray(transitions), np.ascontiguousarray(start), np.ascontiguousarray(end), tags, scores)
    return [tags[b, : lengths[b]] for b in range(batch)], scores
