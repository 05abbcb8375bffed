"""CRF scoring and Viterbi decoding in numpy.

These are the reference implementations of the CRF math: the Keras layer computes the
same quantities in-graph, and the TensorFlow-free runtime uses these functions directly.
All functions take padded batches ``emissions [B, T, K]`` plus ``lengths [B]`` and ignore
positions at or beyond each length.

Constraints are folded into the scores with :func:`constrain`, which adds a large negative
penalty (not ``-inf``, so gradients stay finite in training) to forbidden transitions.

>>> import numpy as np
>>> emissions = np.array([[[2.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])  # last step is padding
>>> paths, scores = viterbi_decode(emissions, [2], np.zeros((2, 2)), np.zeros(2), np.zeros(2))
>>> paths[0].tolist(), float(scores[0])
([0, 1], 3.0)
"""

from __future__ import annotations

import functools

import numpy as np

from .compiled import numba_enabled

#: Score added to forbidden transitions. Large enough that no allowed path loses to a
#: forbidden one, small enough that sums of a few thousand stay finite in float32.
FORBIDDEN = -1e4


def constrain(transitions, start, end, allowed=None):
    """Apply boolean masks ``allowed = (trans [K, K], start [K], end [K])`` to CRF scores."""
    transitions, start, end = (np.asarray(a, dtype=np.float32) for a in (transitions, start, end))
    if allowed is None:
        return transitions, start, end
    allowed_trans, allowed_start, allowed_end = (np.asarray(a, dtype=bool) for a in allowed)
    return (
        np.where(allowed_trans, transitions, transitions + FORBIDDEN).astype(np.float32),
        np.where(allowed_start, start, start + FORBIDDEN).astype(np.float32),
        np.where(allowed_end, end, end + FORBIDDEN).astype(np.float32),
    )


def _check(emissions, lengths):
    emissions = np.asarray(emissions, dtype=np.float32)
    if emissions.ndim != 3:
        raise ValueError(f"emissions must have shape [batch, time, tags], got {emissions.shape}")
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if lengths.shape[0] != emissions.shape[0]:
        raise ValueError("lengths must have one entry per sequence")
    if (lengths < 0).any() or (lengths > emissions.shape[1]).any():
        raise ValueError("lengths must lie in [0, time]")
    return emissions, lengths


def path_score(emissions, tags, lengths, transitions, start, end):
    """Unnormalised score of given tag paths ``tags [B, T]``; zero for empty sequences."""
    emissions, lengths = _check(emissions, lengths)
    tags = np.asarray(tags, dtype=np.int64)
    batch, time, _ = emissions.shape
    mask = np.arange(time)[None, :] < lengths[:, None]
    safe = np.where(mask, tags, 0)
    emit = np.take_along_axis(emissions, safe[..., None], axis=2)[..., 0]
    score = (emit * mask).sum(axis=1)
    if time > 1:
        trans = transitions[safe[:, :-1], safe[:, 1:]]
        score += (trans * mask[:, 1:]).sum(axis=1)
    last = safe[np.arange(batch), np.maximum(lengths - 1, 0)]
    score += np.where(lengths > 0, start[safe[:, 0]] + end[last], 0.0)
    return score.astype(np.float32)


def log_partition(emissions, lengths, transitions, start, end):
    """Log of the sum of exp(path score) over all paths (forward algorithm in log space)."""
    emissions, lengths = _check(emissions, lengths)
    alpha = start[None, :] + emissions[:, 0]
    for t in range(1, emissions.shape[1]):
        scores = alpha[:, :, None] + transitions[None]
        step = np.logaddexp.reduce(scores, axis=1) + emissions[:, t]
        alpha = np.where((t < lengths)[:, None], step, alpha)
    logz = np.logaddexp.reduce(alpha + end[None, :], axis=1)
    return np.where(lengths > 0, logz, 0.0).astype(np.float32)


def viterbi_decode(emissions, lengths, transitions, start, end):
    """Best tag path of each sequence.

    Returns ``(paths, scores)``: a list of int arrays, one of each sequence's length, and
    the path scores ``[B]``. Apply constraints first with :func:`constrain`.

    Runs the compiled decoder of :mod:`bilstm_crf_ner.core.decoding_numba` when numba is
    installed (``pip install "bilstm_crf_ner[fast]"``; the same paths and scores, tested against
    this module's numpy code), else :func:`viterbi_decode_numpy`. Set
    ``BILSTM_CRF_NER_NUMBA=0`` to force numpy.
    """
    compiled = compiled_viterbi()
    if compiled is None:
        return viterbi_decode_numpy(emissions, lengths, transitions, start, end)
    emissions, lengths = _check(emissions, lengths)
    return compiled(emissions, lengths, np.asarray(transitions, dtype=np.float32),
                    np.asarray(start, dtype=np.float32), np.asarray(end, dtype=np.float32))


@functools.lru_cache(maxsize=None)
def compiled_viterbi():
    """The numba decoder, or ``None`` without numba (or with ``BILSTM_CRF_NER_NUMBA=0``)."""
    if not numba_enabled():
        return None
    from .decoding_numba import viterbi_decode as compiled

    return compiled


def viterbi_decode_numpy(emissions, lengths, transitions, start, end):
    """:func:`viterbi_decode` in numpy (the reference, and the runtime's decoder without numba).

    The forward pass keeps only the running maxima (a max over the outermost axis of a
    ``[from, to, batch]`` array is one vectorised numpy call, unlike a per-row argmax); the
    back-pointers are recomputed for the chosen tag only while tracing back. Both use the same
    float32 sums, so the path is the one a back-pointer table would give, ties included (first
    index). Steps beyond a row's length run on padding and are ignored.
    """
    emissions, lengths = _check(emissions, lengths)
    batch, time, num_tags = emissions.shape
    transitions = np.asarray(transitions, dtype=np.float32)
    if time == 0:
        return [np.zeros(0, dtype=np.int64) for _ in range(batch)], np.zeros(batch, dtype=np.float32)
    steps = np.ascontiguousarray(emissions.transpose(1, 2, 0))  # [T, K, B]
    alpha = np.empty((time, num_tags, batch), dtype=np.float32)  # best score ending in each tag
    np.add(np.asarray(start, dtype=np.float32)[:, None], steps[0], out=alpha[0])
    from_to = np.ascontiguousarray(transitions[:, :, None])
    candidates = np.empty((num_tags, num_tags, batch), dtype=np.float32)
    expanded = alpha[:, :, None, :]  # [T, from, 1, B] views, made once (this loop is the hot path)
    add, maximum = np.add, np.maximum.reduce
    for t in range(1, time):
        add(expanded[t - 1], from_to, candidates)
        maximum(candidates, 0, None, alpha[t])
        alpha[t] += steps[t]
    rows = np.arange(batch)
    last_step = np.maximum(lengths - 1, 0)
    final = alpha[last_step, :, rows] + np.asarray(end, dtype=np.float32)[None, :]
    tag = final.argmax(axis=1)
    best_scores = final[rows, tag]
    into = np.ascontiguousarray(transitions.T)  # [to, from]
    by_row = np.ascontiguousarray(alpha.transpose(0, 2, 1))  # [T, B, from]
    reach = np.empty((batch, num_tags), dtype=np.float32)  # score of reaching the chosen tag from each tag
    tags = np.empty((time, batch), dtype=np.int64)
    tags[time - 1] = tag
    ragged = bool((last_step < time - 1).any())
    for t in range(time - 1, 0, -1):
        add(by_row[t - 1], into[tag], reach)
        previous = reach.argmax(axis=1)
        tag = np.where(t <= last_step, previous, tag) if ragged else previous
        tags[t - 1] = tag
    tags = np.ascontiguousarray(tags.T)
    paths = [tags[b, : lengths[b]] for b in range(batch)]
    return paths, np.where(lengths > 0, best_scores, 0.0).astype(np.float32)
