"""Numpy CRF math against brute-force enumeration of every tag path."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.core.decoding import (
    compiled_viterbi, constrain, log_partition, path_score, viterbi_decode, viterbi_decode_numpy,
)
from bilstm_crf_ner.core.tags import allowed_transitions, is_valid, tag_inventory


@st.composite
def crf_cases(draw, max_tags=4, max_time=5, max_batch=3):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    k = draw(st.integers(1, max_tags))
    t = draw(st.integers(1, max_time))
    b = draw(st.integers(1, max_batch))
    lengths = np.array([draw(st.integers(1, t)) for _ in range(b)])
    scale = draw(st.sampled_from([0.1, 1.0, 5.0]))
    emissions = (rng.normal(size=(b, t, k)) * scale).astype(np.float32)
    emissions[np.arange(t)[None, :] >= lengths[:, None]] = 1e3  # padding must never matter
    return emissions, lengths, *(rng.normal(size=s).astype(np.float32) * scale for s in [(k, k), (k,), (k,)])


def brute_force(emissions, length, transitions, start, end):
    k = emissions.shape[-1]
    paths = list(itertools.product(range(k), repeat=length))
    scores = np.array([path_score(emissions[None], np.array([p + (0,) * (emissions.shape[0] - length)]), [length],
                                  transitions, start, end)[0] for p in paths])
    return paths, scores


def direct_score(emissions, path, transitions, start, end):
    score = start[path[0]] + end[path[-1]] + sum(emissions[i, p] for i, p in enumerate(path))
    return score + sum(transitions[a, b] for a, b in zip(path, path[1:]))


@settings(max_examples=150, deadline=None)
@given(crf_cases())
def test_viterbi_and_partition_match_enumeration(case):
    emissions, lengths, transitions, start, end = case
    paths, scores = viterbi_decode(emissions, lengths, transitions, start, end)
    log_z = log_partition(emissions, lengths, transitions, start, end)
    for b, length in enumerate(lengths):
        all_paths, all_scores = brute_force(emissions[b], length, transitions, start, end)
        best = int(np.argmax(all_scores))
        assert np.isclose(scores[b], all_scores[best], atol=1e-4)
        assert np.isclose(direct_score(emissions[b], paths[b], transitions, start, end), all_scores[best], atol=1e-4)
        assert len(paths[b]) == length
        assert np.isclose(log_z[b], np.logaddexp.reduce(all_scores), atol=1e-4)


def test_path_score_matches_the_definition():
    rng = np.random.default_rng(0)
    emissions = rng.normal(size=(1, 4, 3)).astype(np.float32)
    trans, start, end = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    path = (2, 0, 1, 1)
    assert np.isclose(path_score(emissions, np.array([path]), [4], trans, start, end)[0],
                      direct_score(emissions[0], path, trans, start, end), atol=1e-5)


@settings(max_examples=80, deadline=None)
@given(crf_cases(max_tags=1, max_time=6), st.sampled_from(["BIO", "BIOES"]))
def test_constrained_viterbi_is_the_best_valid_path(case, scheme):
    emissions, lengths, *_ = case
    tags = tag_inventory(["A"], scheme)
    k = len(tags)
    rng = np.random.default_rng(int(abs(emissions).sum() * 1000) % 2**31)
    emissions = rng.normal(size=(len(lengths), emissions.shape[1], k)).astype(np.float32) * 3
    trans, start, end = (rng.normal(size=s).astype(np.float32) * 3 for s in [(k, k), (k,), (k,)])
    ctrans, cstart, cend = constrain(trans, start, end, allowed_transitions(tags, scheme))
    paths, _ = viterbi_decode(emissions, lengths, ctrans, cstart, cend)
    for b, length in enumerate(lengths):
        candidates = [p for p in itertools.product(range(k), repeat=length) if is_valid([tags[i] for i in p], scheme)]
        best = max(candidates, key=lambda p: direct_score(emissions[b], p, trans, start, end))
        assert is_valid([tags[i] for i in paths[b]], scheme)
        assert np.isclose(direct_score(emissions[b], paths[b], trans, start, end),
                          direct_score(emissions[b], best, trans, start, end), atol=1e-4)


def test_empty_batch_and_zero_length():
    paths, scores = viterbi_decode(np.zeros((2, 3, 4)), [0, 2], np.zeros((4, 4)), np.zeros(4), np.zeros(4))
    assert len(paths[0]) == 0 and len(paths[1]) == 2 and scores[0] == 0
    paths, _ = viterbi_decode(np.zeros((1, 0, 4)), [0], np.zeros((4, 4)), np.zeros(4), np.zeros(4))
    assert len(paths[0]) == 0


def backpointer_viterbi(emissions, length, transitions, start, end):
    """Textbook Viterbi with a back-pointer table (first index wins ties), one sequence."""
    score = start + emissions[0]
    pointers = []
    for t in range(1, length):
        candidates = score[:, None] + transitions
        pointers.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0) + emissions[t]
    path = [int((score + end).argmax())]
    for best in reversed(pointers):
        path.append(int(best[path[-1]]))
    return path[::-1]


@settings(max_examples=150, deadline=None)
@given(crf_cases(max_tags=5, max_time=9, max_batch=4), st.booleans())
def test_viterbi_breaks_ties_like_a_backpointer_table(case, ties):
    emissions, lengths, transitions, start, end = case
    if ties:  # small integers: many equal-scoring paths
        emissions, transitions, start, end = (np.round(a).clip(-1, 1).astype(np.float32)
                                              for a in (emissions, transitions, start, end))
    paths, _ = viterbi_decode(emissions, lengths, transitions, start, end)
    for b, length in enumerate(lengths):
        assert paths[b].tolist() == backpointer_viterbi(emissions[b], length, transitions, start, end)


def _numba_decode(emissions, lengths, transitions, start, end):
    from bilstm_crf_ner.core.decoding_numba import viterbi_decode as compiled

    as_float = [np.asarray(a, dtype=np.float32) for a in (emissions, transitions, start, end)]
    return compiled(as_float[0], np.asarray(lengths, dtype=np.int64), *as_float[1:])


@settings(max_examples=200, deadline=None)
@given(crf_cases(max_tags=6, max_time=12, max_batch=5), st.booleans())
def test_compiled_decoder_equals_the_numpy_decoder(case, ties):
    """The optional numba decoder (the [fast] extra, in the test extra) gives the numpy decoder's
    paths and float32 scores exactly, ties included; both are tested on their own here."""
    emissions, lengths, transitions, start, end = case
    if ties:
        emissions, transitions, start, end = (np.round(a).clip(-1, 1).astype(np.float32)
                                              for a in (emissions, transitions, start, end))
    reference, reference_scores = viterbi_decode_numpy(emissions, lengths, transitions, start, end)
    paths, scores = _numba_decode(emissions, lengths, transitions, start, end)
    assert [p.tolist() for p in paths] == [p.tolist() for p in reference]
    np.testing.assert_array_equal(scores, reference_scores)
    for b, length in enumerate(lengths):  # and both equal a textbook back-pointer table
        assert paths[b].tolist() == backpointer_viterbi(emissions[b], length, transitions, start, end)


def test_viterbi_decode_uses_the_compiled_decoder_unless_told_not_to():
    import os
    import subprocess
    import sys

    assert compiled_viterbi() is not None  # numba is in the test extra: the fast path is what runs
    code = "from bilstm_crf_ner.core.decoding import compiled_viterbi; print(compiled_viterbi() is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "BILSTM_CRF_NER_NUMBA": "0"}).stdout.strip()
    assert out == "True"
