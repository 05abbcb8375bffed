"""Predictor: raw text in, tags / entities / n-best paths out, over an encoder and an emission scorer.

The Keras model and the exported runtime predict through the same :class:`Predictor`; they
differ only in the two parts it is built from, whose interfaces are written down here:

- a :class:`SentenceEncoder` (text -> tokens -> ids, and windows for length-limited encoders):
  an embedding on the Keras side, a :class:`~bilstm_crf_ner.core.features.TokenEncoder` or
  :class:`~bilstm_crf_ner.core.wordpiece.WordPieceEncoder` in the runtime;
- an :class:`EmissionScorer` (padded ids -> emission scores, and the CRF scores): the Keras
  network, or an OpenVINO / ONNX Runtime backend.

Decoding (constrained Viterbi, marginals, n-best) is always the numpy code of
:mod:`bilstm_crf_ner.core.inference`, so both give the same tags for the same emissions.

>>> import numpy as np
>>> from bilstm_crf_ner.core.features import TokenEncoder
>>> from bilstm_crf_ner.core.vocab import Vocabulary
>>> class Fixed(EmissionScorer):  # "北" and "京" (ids 2, 3) score as a location
...     def emissions(self, ids):
...         return np.eye(3, dtype=np.float32)[np.where(ids >= 2, ids - 1, 0)] * 5
...     def crf_scores(self):
...         return None
>>> encoder = TokenEncoder(Vocabulary(["<pad>", "<unk>", "北", "京"]))
>>> predictor = Predictor(encoder, Fixed(), ["O", "B-LOC", "I-LOC"], "BIO")
>>> predictor.predict(["在北京"])
[['O', 'B-LOC', 'I-LOC']]
"""

from __future__ import annotations

import abc
from typing import Protocol, Sequence, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

from .entities import Entity, extract_entities
from .errors import InputError
from .inference import EMPTY, Decoded, check_pairs, decode_emissions, normalize_inputs, run_in_batches, tag_writer, to_scheme
from .tags import detect_scheme, normalize_scheme
from .windows import merge_windows


@runtime_checkable
class SentenceEncoder(Protocol):
    """The input side of a model: how text becomes tokens and tokens become ids."""

    #: ``"char"`` or ``"word"``: how raw strings are split and entity text is joined.
    token_unit: str

    @property
    def joiner(self) -> str:
        """String placed between tokens to rebuild entity text from a token list."""

    def tokenize(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """Tokens of a raw string with their ``(start, end)`` character offsets."""

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids ``[S(, C)]`` int32 of one token list; channel 0 is 0 only at padding."""

    def encode_many(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """:meth:`encode` of each token list (may be computed for the batch at once)."""

    def windows(self, tokens: Sequence[str], cut_ok=None) -> list[tuple[int, int]]:
        """Token ranges encoded separately (one range unless the encoder has a length limit)."""


@runtime_checkable
class TextEncoder(SentenceEncoder, Protocol):
    """A :class:`SentenceEncoder` without a length limit (one window per text) that also encodes
    raw strings directly, without token lists in between: ``predict`` on strings then skips
    building a Python string and offset pair per character."""

    def encode_texts(self, texts: Sequence[str]) -> list[np.ndarray]:
        """``encode(tokenize(text)[0])`` of each text; one row per token."""


class EmissionScorer(abc.ABC):
    """The network side of a model: emission scores of padded ids, and the CRF's scores."""

    @abc.abstractmethod
    def emissions(self, ids: np.ndarray) -> np.ndarray:
        """Emission scores ``[B, T, K]`` float32 of padded ids ``[B, S(, C)]`` int32."""

    @abc.abstractmethod
    def crf_scores(self) -> tuple | None:
        """``(transitions, start, end)`` with the constraints applied, or ``None`` (softmax head)."""

    def emissions_many(self, batches: Sequence[np.ndarray], progress: bool = False) -> list[np.ndarray]:
        """:meth:`emissions` of several batches (a backend may keep them all in flight)."""
        return [self.emissions(ids) for ids in tqdm(batches, unit="batch", disable=not progress, leave=False)]


class Predictor:
    """``predict`` / ``predict_entities`` / ``predict_nbest`` / ``evaluate`` over an encoder and a scorer.

    Args:
        encoder: a :class:`SentenceEncoder`.
        scorer: an :class:`EmissionScorer` whose emissions have one score per tag in ``tags``.
        tags: the model's tags, in the order of the emission scores.
        tag_scheme: the model's own scheme (``"BIOES"`` or ``"BIO"``).
        data_scheme: the scheme tags are returned in unless a call asks for another
            (the training data's); default ``tag_scheme``.

    A text cut into several windows is scored window by window, the scores merged
    (:func:`bilstm_crf_ner.core.windows.merge_windows`) and decoded in one Viterbi pass over
    the whole text. Safe to use from several threads if the scorer is.
    """

    def __init__(self, encoder: SentenceEncoder, scorer: EmissionScorer, tags: Sequence[str], tag_scheme: str,
                 data_scheme: str | None = None):
        self.encoder, self.scorer = encoder, scorer
        self.tags, self.tag_scheme = list(tags), tag_scheme
        self.data_scheme = data_scheme or tag_scheme
        self._writers: dict = {}  # target scheme -> tag writer (parsing every tag pair costs ~50 us a call)
        self._encodes_texts = isinstance(encoder, TextEncoder)

    def _writer(self, target: str | None):
        target = normalize_scheme(target or self.data_scheme)
        if target not in self._writers:
            self._writers[target] = tag_writer(self.tags, self.tag_scheme, target)
        return self._writers[target]

    def _decode_batches(self, params, scores: bool, nbest: int, progress: bool):
        """``run_in_batches``'s function: emissions of all padded batches, then Viterbi on each
        with the CRF scores ``params``."""

        def decode_batches(batches, lengths):
            return [decode_emissions(e, n, params, self.tags, self.tag_scheme, scores, nbest)
                    for e, n in zip(self.scorer.emissions_many(batches, progress), lengths)]

        return decode_batches

    def _decode_texts(self, x, batch_size: int, progress: bool) -> list[Decoded] | None:
        """Best paths of raw strings encoded straight from the text (a :class:`TextEncoder`), or
        ``None`` when ``x`` is not all strings."""
        if not self._encodes_texts or not isinstance(x, (list, tuple)) or not all(isinstance(t, str) for t in x):
            return None
        ids = self.encoder.encode_texts(x)
        decode_batches = self._decode_batches(self.scorer.crf_scores(), False, 0, progress)
        return run_in_batches(ids, [len(i) for i in ids], decode_batches, batch_size)

    def _decode(self, x, batch_size: int, scores: bool = False, nbest: int = 0, progress: bool = False):
        """``(items, decoded)``: each input as ``(tokens, text, offsets)`` and its :class:`Decoded`."""
        items = normalize_inputs(x, self.encoder.tokenize)
        windows = [self.encoder.windows(tokens) for tokens, _, _ in items]
        decoded: list[Decoded] = [EMPTY] * len(items)
        params = self.scorer.crf_scores()
        decode_batches = self._decode_batches(params, scores, nbest, progress)

        whole = [i for i, w in enumerate(windows) if len(w) == 1]
        if whole:
            results = run_in_batches(self.encoder.encode_many([items[i][0] for i in whole]),
                                     [len(items[i][0]) for i in whole], decode_batches, batch_size)
            for i, result in zip(whole, results):
                decoded[i] = result
        windowed = [i for i, w in enumerate(windows) if len(w) > 1]
        if windowed:
            parts = [(i, start, stop) for i in windowed for start, stop in windows[i]]

            def emission_rows(batches, lengths):
                return [[row[:n] for row, n in zip(e, length)]
                        for e, length in zip(self.scorer.emissions_many(batches, progress), lengths)]

            emissions = run_in_batches(self.encoder.encode_many([items[i][0][start:stop] for i, start, stop in parts]),
                                       [stop - start for _, start, stop in parts], emission_rows, batch_size)
            begin = 0
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
        decoded = None if return_scores else self._decode_texts(x, batch_size, progress)
        if decoded is None:
            _, decoded = self._decode(x, batch_size, scores=return_scores, progress=progress)
        write = self._writer(tag_scheme)
        tags = write([d.path for d in decoded])
        if return_scores:
            return tags, [d.token_scores.tolist() for d in decoded]
        return tags

    def predict_entities(self, x, batch_size: int = 64, progress: bool = False) -> list[list[Entity]]:
        """Entities of each item of ``x`` (strings or token lists), each with a confidence.

        For a string, ``Entity.start``/``end`` are character offsets into it and ``text`` is the
        exact substring; for a token list they are token indices and ``text`` joins the tokens.
        ``Entity.confidence`` is the probability of exactly this entity (type and boundaries).
        """
        items, decoded = self._decode(x, batch_size, scores=True, progress=progress)
        return [extract_entities(tokens, [self.tags[i] for i in d.path], self.tag_scheme, self.encoder.joiner, text,
                                 offsets, d.entity_scores) for (tokens, text, offsets), d in zip(items, decoded)]

    def predict_nbest(self, x, n: int = 3, batch_size: int = 64, tag_scheme: str | None = None, progress: bool = False):
        """The ``n`` best tag paths of each sentence as ``[(tags, probability), ...]``, best first.

        Probabilities are normalized over all valid paths, so they sum to at most 1.
        """
        if int(n) < 1:
            raise InputError("n must be at least 1")
        _, decoded = self._decode(x, batch_size, nbest=int(n), progress=progress)
        write = self._writer(tag_scheme)
        return [list(zip(write([path for path, _ in d.nbest]), [prob for _, prob in d.nbest])) for d in decoded]

    def evaluate(self, x, y, batch_size: int = 64, digits: int = 4, progress: bool = False):
        """Entity-level precision, recall and F1 (seqeval), overall and per type, with a summary
        of the entity errors (:func:`bilstm_crf_ner.core.evaluation.entity_errors`); returns an
        :class:`~bilstm_crf_ner.core.evaluation.EvaluationReport`.

        Gold tags may be in any scheme; they are read leniently like the training data. A gold
        entity type the model does not know raises :class:`InputError`.
        """
        from .evaluation import entity_report

        tokens, gold = check_pairs(x, y, self.encoder.tokenize, "evaluation data")
        gold_bio = to_scheme(gold, detect_scheme(gold), "BIO", "evaluation data")
        known = set(self.tags)
        for i, tags in enumerate(gold_bio):
            for tag in tags:
                if tag != "O" and f"B-{tag[2:]}" not in known:
                    raise InputError(f"evaluation data: sentence {i} has entity type {tag[2:]!r}, unknown to this model")
        predicted = self.predict(tokens, batch_size=batch_size, tag_scheme="BIO", progress=progress)
        return entity_report(gold_bio, predicted, digits=digits)


class PredictsWithPredictor:
    """The prediction methods of a model that owns a :class:`Predictor` (the Keras model and the
    runtime ``Tagger``): each forwards to ``self.predictor``, whose docstrings say the rest."""

    @property
    def predictor(self) -> Predictor:
        raise NotImplementedError

    def predict(self, x, batch_size: int = 64, tag_scheme: str | None = None, return_scores: bool = False,
                progress: bool = False):
        """Tags of each sentence (token lists or raw strings): :meth:`Predictor.predict`."""
        return self.predictor.predict(x, batch_size, tag_scheme, return_scores, progress)

    def predict_entities(self, x, batch_size: int = 64, progress: bool = False) -> list[list[Entity]]:
        """Entities with character offsets and confidences: :meth:`Predictor.predict_entities`."""
        return self.predictor.predict_entities(x, batch_size, progress)

    def predict_nbest(self, x, n: int = 3, batch_size: int = 64, tag_scheme: str | None = None, progress: bool = False):
        """The ``n`` best tag paths with probabilities: :meth:`Predictor.predict_nbest`."""
        return self.predictor.predict_nbest(x, n, batch_size, tag_scheme, progress)

    def evaluate(self, x, y, batch_size: int = 64, digits: int = 4, progress: bool = False):
        """Entity-level scores and errors against gold tags: :meth:`Predictor.evaluate`."""
        return self.predictor.evaluate(x, y, batch_size, digits, progress)
