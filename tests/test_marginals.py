"""Marginals, entity span probabilities and n-best paths against brute-force enumeration."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.core.decoding import constrain, viterbi_decode
from bilstm_crf_ner.core.marginals import forward_backward, nbest_viterbi, span_probability, token_marginals
from bilstm_crf_ner.core.tags import allowed_transitions, is_valid, parse_tag, spans_from_tags, tag_inventory


def score(emissions, path, trans, start, end):
    total = start[path[0]] + end[path[-1]] + sum(emissions[i, p] for i, p in enumerate(path))
    return total + sum(trans[a, b] for a, b in zip(path, path[1:]))


@st.composite
def cases(draw):
    """A random CRF over a tag scheme (constrained or not) and a padded batch."""
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    scheme = draw(st.sampled_from(["BIO", "BIOES", None]))
    tags = tag_inventory(["A", "B"] if scheme == "BIO" else ["A"], scheme or "BIO")
    k, t = len(tags), draw(st.integers(1, 4 if scheme == "BIOES" else 5))
    lengths = np.array([draw(st.integers(1, t)) for _ in range(draw(st.integers(1, 3)))])
    scale = draw(st.sampled_from([0.5, 2.0]))
    emissions = rng.normal(size=(len(lengths), t, k)) * scale
    params = [rng.normal(size=s) * scale for s in [(k, k), (k,), (k,)]]
    if scheme:
        params = list(constrain(*params, allowed_transitions(tags, scheme)))
    return scheme, tags, emissions.astype(np.float32), lengths, [p.astype(np.float32) for p in params]


def enumerate_paths(emissions, length, params):
    k = emissions.shape[-1]
    paths = list(itertools.product(range(k), repeat=length))
    scores = np.array([score(emissions[:length], p, *params) for p in paths], dtype=np.float64)
    probs = np.exp(scores - scores.max())
    return paths, scores, probs / probs.sum()


@settings(max_examples=120, deadline=None)
@given(cases())
def test_marginals_match_enumeration_and_sum_to_one(case):
    scheme, tags, emissions, lengths, params = case
    marg = token_marginals(emissions, lengths, *params)
    _, _, log_z = forward_backward(emissions, lengths, *params)
    for b, length in enumerate(lengths):
        paths, scores, probs = enumerate_paths(emissions[b], length, params)
        expected = np.zeros((length, len(tags)))
        for p, pr in zip(paths, probs):
            expected[np.arange(length), p] += pr
        np.testing.assert_allclose(marg[b, :length], expected, atol=1e-6)
        np.testing.assert_allclose(marg[b, :length].sum(axis=1), 1.0, atol=1e-9)
        assert (marg[b, length:] == 0).all()
        assert np.isclose(log_z[b], np.logaddexp.reduce(scores), atol=1e-4)


@settings(max_examples=120, deadline=None)
@given(cases(), st.integers(1, 6))
def test_nbest_matches_sorted_enumeration(case, n):
    scheme, tags, emissions, lengths, params = case
    length = lengths[0]
    best = nbest_viterbi(emissions[0, :length], *params, n=n)
    paths, scores, probs = enumerate_paths(emissions[0], length, params)
    if scheme:  # forbidden paths are never returned
        keep = [i for i, p in enumerate(paths) if is_valid([tags[j] for j in p], scheme)]
        paths, scores = [paths[i] for i in keep], scores[keep]
    order = np.argsort(-scores, kind="stable")[:n]
    assert len(best) == min(n, len(paths))
    np.testing.assert_allclose([s for _, s in best], scores[order], atol=1e-4)
    for path, s in best:
        assert np.isclose(score(emissions[0, :length], path, *params), s, atol=1e-4)
    assert len({tuple(p) for p, _ in best}) == len(best)  # distinct paths
    viterbi, _ = viterbi_decode(emissions[:1, :length], [length], *params)
    assert np.isclose(score(emissions[0, :length], viterbi[0], *params), best[0][1], atol=1e-4)


def test_nbest_ties_are_deterministic():
    emissions = np.zeros((3, 2))
    result = nbest_viterbi(emissions, np.zeros((2, 2)), np.zeros(2), np.zeros(2), n=8)
    assert [tuple(p.tolist()) for p, _ in result] == sorted(itertools.product(range(2), repeat=3))


@settings(max_examples=100, deadline=None)
@given(cases())
def test_entity_probability_is_the_mass_of_paths_containing_the_entity(case):
    scheme, tags, emissions, lengths, params = case
    if scheme is None:
        return
    alpha, beta, log_z = forward_backward(emissions, lengths, *params)
    length = lengths[0]
    paths, _, probs = enumerate_paths(emissions[0], length, params)
    viterbi, _ = viterbi_decode(emissions[:1, :length], [length], *params)
    path = viterbi[0]
    for etype, begin, stop in spans_from_tags([tags[i] for i in path], scheme):
        forbidden = [tags.index(f"I-{etype}")] if scheme == "BIO" else []
        got = span_probability(emissions[0, :length], alpha[0, :length], beta[0, :length], log_z[0], params[0],
                               path, begin, stop, forbidden)
        expected = sum(pr for p, pr in zip(paths, probs)
                       if (etype, begin, stop) in spans_from_tags([tags[i] for i in p], scheme)
                       and is_valid([tags[i] for i in p], scheme))
        assert np.isclose(got, expected, atol=1e-6), (scheme, path, begin, stop)
        assert parse_tag(tags[path[begin]], scheme)[1] == etype
