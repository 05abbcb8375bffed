"""The steps of prediction shared by the Keras model and the TensorFlow-free runtime.

raw inputs -> tokens (+ character offsets) -> ids -> length-sorted padded batches ->
emissions -> constrained Viterbi (numpy) -> tag strings or entities. :class:`~.predictor.Predictor`
strings these functions together; the Keras model and the runtime differ only in where the
emissions come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .batching import pad_batch, sorted_batches
from .decoding import viterbi_decode
from .entities import extract_entities
from .errors import InputError, TagSchemeError
from .marginals import nbest_viterbi, scaled_forward_backward, span_probability
from .tags import OUTSIDE, allowed_transitions, convert_tags, detect_scheme, normalize_scheme, spans_from_tags
from .windows import merge_windows

#: Cap on padded tokens per prediction batch, so one very long text does not take a huge batch.
MAX_BATCH_TOKENS = 64 * 512


def normalize_inputs(x, tokenize: Callable[[str], tuple], name: str = "x"):
    """``(tokens, raw_text, offsets)`` per item of ``x``; strings are tokenized, token lists checked."""
    if isinstance(x, (str, bytes)) or not isinstance(x, (Sequence, np.ndarray)):
        raise InputError(f"{name} must be a list of sentences (token lists or strings), got {type(x).__name__}")
    items = []
    for i, item in enumerate(x):
        if isinstance(item, str):
            tokens, offsets = tokenize(item)
            items.append((tokens, item, offsets))
            continue
        if not isinstance(item, (list, tuple, np.ndarray)):
            raise InputError(f"{name}[{i}] must be a string or a list of token strings, got {type(item).__name__}")
        for j, token in enumerate(item):
            if not isinstance(token, str):
                raise InputError(f"{name}[{i}][{j}] is {type(token).__name__} {token!r}; tokens must be strings")
            if not token or token.isspace():
                raise InputError(f"{name}[{i}][{j}] is an empty or whitespace token")
        items.append((list(item), None, None))
    return items


def check_pairs(x, y, tokenize: Callable[[str], tuple], name: str):
    """``(token lists, tag lists)`` of labelled data, with raw strings in ``x`` tokenized;
    :class:`InputError` when the counts of sentences or of tokens and tags differ."""
    if y is None:
        raise InputError(f"{name}: tags are required")
    if len(x) != len(y):
        raise InputError(f"{name}: {len(x)} sentences but {len(y)} tag sequences")
    items = normalize_inputs(x, tokenize, name)
    for i, ((tokens, _, _), tags) in enumerate(zip(items, y)):
        if isinstance(tags, str) or len(tokens) != len(tags):
            raise InputError(f"{name}: sentence {i} has {len(tokens)} tokens but "
                             f"{len(tags) if not isinstance(tags, str) else 'a string of'} tags")
    return [tokens for tokens, _, _ in items], [list(t) for t in y]


def to_scheme(y, source: str, target: str, name: str):
    """Tag lists converted between schemes; :class:`InputError` names the bad sentence."""
    out = []
    for i, tags in enumerate(y):
        try:
            out.append(convert_tags(tags, source, target))
        except TagSchemeError as exc:
            raise InputError(f"{name}: sentence {i}: {exc}") from None
    return out


@dataclass(frozen=True)
class Decoded:
    """What decoding one sentence produced: the best path and, on request, its confidences."""

    path: np.ndarray
    token_scores: np.ndarray | None = None  # marginal probability of each chosen tag
    entity_scores: list | None = None  # probability of each entity of the path (model scheme)
    nbest: list | None = None  # [(path, probability)], best first


EMPTY = Decoded(np.zeros(0, dtype=np.int64), np.zeros(0), [], [])


def run_in_batches(id_sequences: Sequence[np.ndarray], lengths: Sequence[int], run_batches, batch_size: int,
                   max_tokens: int = MAX_BATCH_TOKENS, empty=EMPTY) -> list:
    """Run every sequence through ``run_batches`` in length-sorted padded batches (little padding).

    ``lengths[i]`` is the number of tokens of sequence ``i`` (the network's output length; its
    ids may have more rows, e.g. WordPieces). ``run_batches(ids_list, lengths_list) ->
    [[result, ...], ...]`` handles all padded batches (``ids [B, S(, C)] int32``, ``lengths
    [B]``) at once, so a backend may overlap them; sequences of no token give ``empty``.
    """
    sizes = np.array([len(s) for s in id_sequences], dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    results = [empty] * len(id_sequences)
    nonempty = np.flatnonzero(lengths > 0)
    plan = [nonempty[batch] for batch in sorted_batches(sizes[nonempty], batch_size, max_tokens)]
    outputs = run_batches([pad_batch([id_sequences[i] for i in index]) for index in plan], [lengths[index] for index in plan])
    for index, rows in zip(plan, outputs):
        for i, row in zip(index, rows):
            results[i] = row
    return results


def decode_emissions(emissions, lengths, params, tags: Sequence[str], scheme: str,
                     scores: bool = False, nbest: int = 0) -> list[Decoded]:
    """Constrained Viterbi in numpy on a batch of emissions, with confidences if asked.

    ``params`` are the (constrained) CRF scores ``(transitions, start, end)``; ``None`` means a
    softmax head (argmax per token; no confidences). Entity confidence is the probability of
    the entity's exact span and boundaries (:func:`bilstm_crf_ner.core.marginals.span_probability`).
    """
    if params is None:
        if scores or nbest:
            raise InputError("confidence scores and n-best paths need a CRF head")
        return [Decoded(row[:n]) for row, n in zip(emissions.argmax(axis=-1), lengths)]
    paths, _ = viterbi_decode(emissions, lengths, *params)
    if not scores and not nbest:
        return [Decoded(path) for path in paths]
    alpha, beta, log_prefix, log_suffix, log_z, _ = scaled_forward_backward(emissions, lengths, *params)
    out = []
    for b, (path, length) in enumerate(zip(paths, lengths)):
        token_scores = entity_scores = best = None
        if scores:
            positions = np.arange(length)
            chosen = alpha[b, positions, path] * beta[b, positions, path]
            token_scores = chosen / (alpha[b, :length] * beta[b, :length]).sum(axis=1)
            spans = spans_from_tags([tags[i] for i in path], scheme)
            entity_scores = []
            if spans:
                with np.errstate(divide="ignore"):
                    log_alpha = np.log(alpha[b, :length]) + log_prefix[b, :length, None]
                    log_beta = np.log(beta[b, :length]) + log_suffix[b, :length, None]
                entity_scores = [
                    span_probability(emissions[b, :length], log_alpha, log_beta, log_z[b], params[0], path, begin, stop,
                                     [tags.index(f"I-{etype}")] if scheme == "BIO" else [])
                    for etype, begin, stop in spans
                ]
        if nbest:
            best = [(p, float(np.exp(score - log_z[b])))
                    for p, score in nbest_viterbi(emissions[b, :length], *params, n=nbest)]
        out.append(Decoded(path, token_scores, entity_scores, best))
    return out


def tag_writer(tags: Sequence[str], model_scheme: str, target_scheme: str):
    """A function from tag-id paths (a list of int arrays) to tag-string lists in ``target_scheme``.

    BIOES paths that are valid (constrained Viterbi gives nothing else) become BIO tag by tag
    (S -> B, E -> I); anything else goes through :func:`~bilstm_crf_ner.core.tags.convert_tags`,
    which reads entity spans leniently, so both give the same tags. The table lookups and the
    validity check run on all paths of a call at once (an object-array gather, not a Python loop
    per tag).
    """
    names = np.array(list(tags), dtype=object)
    if target_scheme == model_scheme:
        return lambda paths: [names[np.asarray(path, dtype=np.int64)].tolist() for path in paths]
    if (model_scheme, target_scheme) != ("BIOES", "BIO"):
        return lambda paths: [convert_tags(names[np.asarray(path, dtype=np.int64)].tolist(), model_scheme, target_scheme)
                              for path in paths]
    trans, start, end = allowed_transitions(tags, model_scheme)
    as_bio = np.array([tag if tag == OUTSIDE else ("B" if tag[0] in "BS" else "I") + tag[1:] for tag in tags], dtype=object)

    def write(paths):
        paths = [np.asarray(path, dtype=np.int64) for path in paths]
        if not paths:
            return []
        lengths = np.array([len(path) for path in paths], dtype=np.int64)
        flat = np.concatenate(paths)
        ends = np.cumsum(lengths)
        filled = lengths > 0
        valid = np.ones(len(paths), dtype=bool)
        valid[filled] = start[flat[ends[filled] - lengths[filled]]] & end[flat[ends[filled] - 1]]
        owner = np.repeat(np.arange(len(paths)), lengths)  # the path of each flat position
        broken = ~trans[flat[:-1], flat[1:]] & (owner[:-1] == owner[1:])
        valid &= np.bincount(owner[:-1][broken], minlength=len(paths)) == 0
        written = as_bio[flat].tolist()
        return [written[stop - n:stop] if ok else convert_tags(names[path].tolist(), model_scheme, target_scheme)
                for stop, n, ok, path in zip(ends.tolist(), lengths.tolist(), valid.tolist(), paths)]

    return write
