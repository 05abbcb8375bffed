"""The prediction pipeline shared by the Keras model and the TensorFlow-free runtime.

raw inputs -> tokens (+ character offsets) -> ids -> length-sorted padded batches ->
``decode_batch`` (in-graph Viterbi for Keras, a runtime + numpy Viterbi for exported models)
-> tag strings or entities. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

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
    """A function from a tag-id path to tag strings in ``target_scheme``.

    BIOES paths that are valid (constrained Viterbi gives nothing else) become BIO tag by tag
    (S -> B, E -> I); anything else goes through :func:`~bilstm_crf_ner.core.tags.convert_tags`,
    which reads entity spans leniently, so both give the same tags.
    """
    if target_scheme == model_scheme:
        return lambda path: [tags[i] for i in path]
    if (model_scheme, target_scheme) != ("BIOES", "BIO"):
        return lambda path: convert_tags([tags[i] for i in path], model_scheme, target_scheme)
    trans, start, end = allowed_transitions(tags, model_scheme)
    as_bio = [tag if tag == OUTSIDE else ("B" if tag[0] in "BS" else "I") + tag[1:] for tag in tags]

    def write(path):
        path = np.asarray(path)
        if len(path) and start[path[0]] and end[path[-1]] and trans[path[:-1], path[1:]].all():
            return [as_bio[i] for i in path]
        return convert_tags([tags[i] for i in path], model_scheme, target_scheme)

    return write


class PredictionMixin:
    """``predict`` / ``predict_entities`` / ``predict_nbest``, shared by the Keras model and the runtime.

    A subclass provides ``tags``, ``tag_scheme``, ``data_scheme``, ``joiner``, ``tokenize(text)``,
    ``encode_tokens(tokens)``, ``_require_ready()``, ``_decode_batch(ids, lengths, scores, nbest)
    -> [Decoded]``, ``_emissions_batch(ids) -> [B, T, K]`` and ``_crf_scores()``; it may
    override ``encode_many(sentences)`` to encode a batch at once, ``_decode_batches`` to run
    several batches at once, and ``windows(tokens)`` when its encoder has a length limit. A text cut into several windows is scored window by
    window, the scores merged (:func:`bilstm_crf_ner.core.windows.merge_windows`) and decoded in one
    Viterbi pass over the whole text.
    """

    def windows(self, tokens):
        return [(0, len(tokens))]

    def encode_many(self, sentences):
        """``encode_tokens`` of each token list (encoders may do a batch faster at once)."""
        return [self.encode_tokens(tokens) for tokens in sentences]

    def _tag_writer(self, target: str):
        """:func:`tag_writer` for this model's tags, built once per target scheme (it parses every
        tag pair, ~50 us: a few percent of a one-sentence call)."""
        key = (tuple(self.tags), self.tag_scheme, target)
        writers = self.__dict__.setdefault("_tag_writers", {})
        if key not in writers:
            writers[key] = tag_writer(*key)
        return writers[key]

    def _decode_batches(self, batches, lengths, scores, nbest, progress):
        bar = tqdm(total=len(batches), unit="batch", disable=not progress, leave=False)
        out = []
        for ids, length in zip(batches, lengths):
            out.append(self._decode_batch(ids, length, scores, nbest))
            bar.update()
        bar.close()
        return out

    def _emissions_batches(self, batches, lengths):
        return [[row[:n] for row, n in zip(self._emissions_batch(ids), length)] for ids, length in zip(batches, lengths)]

    def _decode(self, x, batch_size, scores=False, nbest=0, progress=False):
        self._require_ready()
        items = normalize_inputs(x, self.tokenize)
        windows = [self.windows(tokens) for tokens, _, _ in items]
        decoded = [EMPTY] * len(items)
        whole = [i for i, w in enumerate(windows) if len(w) == 1]
        if whole:
            results = run_in_batches(self.encode_many([items[i][0] for i in whole]), [len(items[i][0]) for i in whole],
                                     lambda b, n: self._decode_batches(b, n, scores, nbest, progress), batch_size)
            for i, result in zip(whole, results):
                decoded[i] = result
        windowed = [i for i, w in enumerate(windows) if len(w) > 1]
        if windowed:
            parts = [(i, start, stop) for i in windowed for start, stop in windows[i]]
            emissions = run_in_batches(self.encode_many([items[i][0][start:stop] for i, start, stop in parts]),
                                       [stop - start for _, start, stop in parts], self._emissions_batches, batch_size)
            params, begin = self._crf_scores(), 0
            for i in windowed:
                count, length = len(windows[i]), len(items[i][0])
                merged = merge_windows(windows[i], emissions[begin:begin + count], length)
                begin += count
                decoded[i] = decode_emissions(merged[None], [length], params, self.tags, self.tag_scheme, scores, nbest)[0]
        return items, decoded

    def predict(self, x, batch_size: int = 64, tag_scheme: str | None = None, return_scores: bool = False,
                progress: bool = False):
        """Tags for each sentence of ``x``.

        Each item of ``x`` is a token list, or a raw string which is split like the training
        data (non-space characters for character models, whitespace-separated words otherwise);
        one tag is returned per token. Tags are in the training data's scheme unless
        ``tag_scheme`` names another. Empty inputs give empty tag lists; texts of any length
        are tagged in full.

        With ``return_scores=True`` returns ``(tags, scores)``: ``scores[i][t]`` is the CRF
        marginal probability (forward-backward) of the tag chosen at token ``t``, in the
        model's own scheme. ``progress=True`` shows a progress bar over batches.
        """
        _, decoded = self._decode(x, batch_size, scores=return_scores, progress=progress)
        target = normalize_scheme(tag_scheme or self.data_scheme)
        write = self._tag_writer(target)
        tags = [write(d.path) for d in decoded]
        if return_scores:
            return tags, [d.token_scores.tolist() for d in decoded]
        return tags

    def predict_entities(self, x, batch_size: int = 64, progress: bool = False):
        """Entities of each item of ``x`` (strings or token lists), each with a confidence.

        For a string, ``Entity.start``/``end`` are character offsets into it and ``text`` is the
        exact substring; for a token list they are token indices and ``text`` joins the tokens.
        ``Entity.confidence`` is the probability of exactly this entity (type and boundaries).
        """
        items, decoded = self._decode(x, batch_size, scores=True, progress=progress)
        return [extract_entities(tokens, [self.tags[i] for i in d.path], self.tag_scheme, self.joiner, text, offsets,
                                 d.entity_scores) for (tokens, text, offsets), d in zip(items, decoded)]

    def predict_nbest(self, x, n: int = 3, batch_size: int = 64, tag_scheme: str | None = None, progress: bool = False):
        """The ``n`` best tag paths of each sentence as ``[(tags, probability), ...]``, best first.

        Probabilities are normalized over all valid paths, so they sum to at most 1.
        """
        if int(n) < 1:
            raise InputError("n must be at least 1")
        _, decoded = self._decode(x, batch_size, nbest=int(n), progress=progress)
        target = normalize_scheme(tag_scheme or self.data_scheme)
        write = self._tag_writer(target)
        return [[(write(path), prob) for path, prob in d.nbest] for d in decoded]

    def evaluate(self, x, y, batch_size: int = 64, digits: int = 4, progress: bool = False):
        """Entity-level precision, recall and F1 (seqeval), overall and per type, with a summary
        of the entity errors (:func:`bilstm_crf_ner.core.evaluation.entity_errors`); returns an
        :class:`~bilstm_crf_ner.core.evaluation.EvaluationReport`.

        Gold tags may be in any scheme; they are read leniently like the training data. A gold
        entity type the model does not know raises :class:`InputError`.
        """
        from .evaluation import entity_report

        self._require_ready()
        tokens, gold = check_pairs(x, y, self.tokenize, "evaluation data")
        gold_bio = to_scheme(gold, detect_scheme(gold), "BIO", "evaluation data")
        known = set(self.tags)
        for i, tags in enumerate(gold_bio):
            for tag in tags:
                if tag != "O" and f"B-{tag[2:]}" not in known:
                    raise InputError(f"evaluation data: sentence {i} has entity type {tag[2:]!r}, unknown to this model")
        predicted = self.predict(tokens, batch_size=batch_size, tag_scheme="BIO", progress=progress)
        return entity_report(gold_bio, predicted, digits=digits)
