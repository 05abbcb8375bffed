"""Confidence from the CRF: forward-backward marginals, entity span probabilities, n-best paths.

All numpy, over padded batches ``emissions [B, T, K]`` with ``lengths [B]``, using the same
(constrained) scores as :mod:`bilstm_crf_ner.core.decoding`:

- :func:`forward_backward` gives ``log_alpha``, ``log_beta`` and ``log Z``;
- :func:`token_marginals` the probability of every tag at every position;
- :func:`span_probability` the probability that the model's distribution contains exactly a
  given entity: the entity's tags on its span *and* its boundaries (for BIO, the next tag must
  not continue it). This is the entity confidence: the probability mass of all paths that
  produce this entity, so it is a real probability that can be calibrated and checked;
- :func:`nbest_viterbi` the exact ``n`` best paths of one sequence with their probabilities.

>>> import numpy as np
>>> e = np.log(np.array([[[0.9, 0.1], [0.5, 0.5]]]))
>>> token_marginals(e, [2], np.zeros((2, 2)), np.zeros(2), np.zeros(2))[0].round(2).tolist()
[[0.9, 0.1], [0.5, 0.5]]
"""

from __future__ import annotations

import numpy as np

from .decoding import FORBIDDEN, _check


def _logsumexp(a, axis):
    peak = np.max(a, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    return np.squeeze(peak, axis=axis) + np.log(np.sum(np.exp(a - peak), axis=axis))


def forward_backward(emissions, lengths, transitions, start, end):
    """``(log_alpha [B, T, K], log_beta [B, T, K], log_z [B])`` (float64).

    ``log_alpha[b, t, k]``: log total score of prefixes ending in tag ``k`` at ``t`` (emission at
    ``t`` included); ``log_beta[b, t, k]``: log total score of the continuations after ``t``
    given tag ``k`` at ``t`` (end score included). Positions beyond a length hold zeros.

    Computed in scaled probability space (one small matrix product and a normalisation per
    step, no per-step ``exp``/``log``), which is exact up to float64 rounding; forbidden
    transitions have probability exactly zero.
    """
    alpha, beta, log_prefix, log_suffix, log_z, lengths = scaled_forward_backward(
        emissions, lengths, transitions, start, end)
    with np.errstate(divide="ignore"):
        log_alpha = np.log(alpha) + log_prefix[..., None]
        log_beta = np.log(beta) + log_suffix[..., None]
    valid = (np.arange(alpha.shape[1])[None, :] < lengths[:, None])[..., None]
    return np.where(valid, log_alpha, 0.0), np.where(valid, log_beta, 0.0), log_z


def scaled_forward_backward(emissions, lengths, transitions, start, end):
    """The scaled quantities behind :func:`forward_backward`.

    Returns ``(alpha_hat, beta_hat, log_prefix, log_suffix, log_z, lengths)`` with
    ``log_alpha = log(alpha_hat) + log_prefix[..., None]`` and likewise for beta; each row of
    ``alpha_hat``/``beta_hat`` sums to 1, so token marginals are ``alpha_hat * beta_hat``
    renormalised per position, without any logarithm.
    """
    emissions, lengths = _check(emissions, lengths)
    batch, time, num_tags = emissions.shape
    alpha = np.zeros((batch, time, num_tags))
    beta = np.zeros((batch, time, num_tags))
    if time == 0:
        return alpha, beta, np.zeros((batch, time)), np.zeros((batch, time)), np.zeros(batch), lengths
    emissions = emissions.astype(np.float64)
    transitions, start, end = (np.asarray(a, dtype=np.float64) for a in (transitions, start, end))
    e_max = emissions.max(axis=2)
    probs = np.exp(emissions - e_max[..., None])
    t_max, s_max, end_max = transitions.max(), start.max(), end.max()
    trans = np.exp(transitions - t_max)
    active = np.arange(time)[None, :] < lengths[:, None]
    rows = np.arange(batch)
    last = np.maximum(lengths - 1, 0)

    # Forward: alpha_hat[t] sums to 1; log_scale[t] accumulates what was divided out.
    log_scale = np.zeros((batch, time))
    current = np.exp(start - s_max)[None, :] * probs[:, 0]
    total = current.sum(axis=1)
    alpha[:, 0] = current / total[:, None]
    log_scale[:, 0] = np.log(total) + s_max + e_max[:, 0]
    for t in range(1, time):
        current = (alpha[:, t - 1] @ trans) * probs[:, t]
        total = np.where(active[:, t], current.sum(axis=1), 1.0)
        alpha[:, t] = current / total[:, None]
        log_scale[:, t] = np.where(active[:, t], np.log(total) + t_max + e_max[:, t], 0.0)
    log_prefix = np.cumsum(log_scale, axis=1)
    end_probs = np.exp(end - end_max)
    log_z = np.log((alpha[rows, last] * end_probs).sum(axis=1)) + end_max + log_prefix[rows, last]

    # Backward: beta_hat[t] sums to 1; log_suffix[t] is the log of what was divided out after t.
    log_suffix = np.zeros((batch, time))
    beta[rows, last] = end_probs / end_probs.sum()
    log_suffix[rows, last] = np.log(end_probs.sum()) + end_max
    for t in range(time - 2, -1, -1):
        inside = t < last
        current = trans @ (probs[:, t + 1] * beta[:, t + 1]).T
        current = current.T
        total = np.where(inside, current.sum(axis=1), 1.0)
        beta[:, t] = np.where(inside[:, None], current / total[:, None], beta[:, t])
        step = np.log(total) + t_max + e_max[:, t + 1] + log_suffix[:, t + 1]
        log_suffix[:, t] = np.where(inside, step, log_suffix[:, t])
    return alpha, beta, log_prefix, log_suffix, np.where(lengths > 0, log_z, 0.0), lengths


def token_marginals(emissions, lengths, transitions, start, end):
    """``P(y_t = k | x)`` as ``[B, T, K]``; rows beyond each length are zero."""
    alpha, beta, _, _, _, lengths = scaled_forward_backward(emissions, lengths, transitions, start, end)
    product = alpha * beta
    total = product.sum(axis=2, keepdims=True)
    valid = (np.arange(alpha.shape[1])[None, :] < lengths[:, None])[..., None]
    return np.where(valid, product / np.where(total > 0, total, 1.0), 0.0)


def span_probability(emissions, alpha, beta, log_z, transitions, path, begin, stop, forbidden_next=()):
    """Probability that tags ``path[begin:stop]`` occur on ``[begin, stop)`` of one sequence.

    ``emissions``/``alpha``/``beta`` are one sequence's ``[T, K]`` rows (``T`` = its length) and
    ``log_z`` its scalar. ``forbidden_next`` lists tags that may not follow the span (for BIO,
    the ``I-`` tag of the entity's type), so the probability covers the entity's end boundary.
    """
    transitions = np.asarray(transitions, dtype=np.float64)
    score = alpha[begin, path[begin]]
    for t in range(begin + 1, stop):
        score += transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    last = path[stop - 1]
    if stop < len(emissions) and len(forbidden_next):
        following = transitions[last] + emissions[stop] + beta[stop]
        keep = np.ones(len(following), dtype=bool)
        keep[list(forbidden_next)] = False
        score += _logsumexp(following[keep], axis=0)
    else:
        score += beta[stop - 1, last]
    return float(np.exp(min(score - log_z, 0.0)))


def nbest_viterbi(emissions, transitions, start, end, n: int):
    """The ``n`` best paths of one sequence ``emissions [T, K]`` as ``[(path, score), ...]``.

    Exact (list Viterbi keeping ``n`` candidates per tag and step). Paths come best first, and
    paths with exactly equal scores in lexicographic order of their tag ids (at the cut-off,
    the candidates with smaller tag ids at later positions are kept), so results are
    deterministic. Paths that need a forbidden transition (score below the best by more than
    half the constraint penalty) are left out, so fewer than ``n`` paths may come back.
    """
    emissions = np.asarray(emissions, dtype=np.float64)
    transitions, start, end = (np.asarray(a, dtype=np.float64) for a in (transitions, start, end))
    time, num_tags = emissions.shape
    if time == 0 or n < 1:
        return []
    # scores[k, r]: r-th best score of paths ending in tag k; -inf marks an empty slot.
    scores = np.full((num_tags, n), -np.inf)
    scores[:, 0] = start + emissions[0]
    pointers = []  # per step: [K, n, 2] (previous tag, previous rank)
    for t in range(1, time):
        candidates = scores[:, None, :] + transitions[:, :, None]  # [prev K, K, n]
        flat = candidates.transpose(1, 0, 2).reshape(num_tags, -1)  # [K, prev K * n], ordered (prev tag, rank)
        order = np.argsort(-flat, axis=1, kind="stable")[:, :n]
        new_scores = np.take_along_axis(flat, order, axis=1) + emissions[t][:, None]
        pointers.append(np.stack([order // n, order % n], axis=-1))
        if order.shape[1] < n:
            pad = n - order.shape[1]
            new_scores = np.concatenate([new_scores, np.full((num_tags, pad), -np.inf)], axis=1)
            pointers[-1] = np.concatenate([pointers[-1], np.zeros((num_tags, pad, 2), dtype=int)], axis=1)
        scores = new_scores
    final = (scores + end[:, None]).reshape(-1)  # ordered (tag, rank)
    order = np.argsort(-final, kind="stable")[:n]
    results = []
    for index in order:
        score = final[index]
        if not np.isfinite(score) or (results and score < results[0][1] + FORBIDDEN / 2):
            break
        tag, rank = divmod(int(index), n)
        path = [tag]
        for step in reversed(pointers):
            tag, rank = step[tag, rank]
            path.append(int(tag))
        results.append((np.array(path[::-1]), float(score)))
    results.sort(key=lambda item: (-item[1], tuple(item[0].tolist())))
    return results
