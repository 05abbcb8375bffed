"""Character spans <-> per-token tags, with the tokenization a model applies to raw strings.

Tokens come from :data:`bilstm_crf_ner.core.text.TOKENIZERS` (``"char"``: every non-space
character; ``"word"``: whitespace-separated words) or any ``tokenize(text) -> (tokens,
offsets)`` callable such as ``model.tokenize``; whitespace is never a token. A span is tagged
on the tokens it overlaps:

- edges on whitespace are trimmed to the first and last token (the tags are the same; the
  span read back is the trimmed one);
- an edge inside a token (word models: ``"New York"`` labelled ``[0, 5)``) is widened to the
  whole token with ``boundary="expand"`` (default) or raises :class:`InputError` with
  ``boundary="refuse"``;
- a span covering no token (whitespace only), or two spans sharing a token after widening,
  raise :class:`InputError`.

Every adjusted span is logged as a warning (count and first examples) and listed in
:attr:`SpanAlignment.adjusted`.

>>> tokens, tags = spans_to_tags(["张三在北京"], [[(0, 2, "PER"), (3, 5, "LOC")]])
>>> tags
[['B-PER', 'I-PER', 'O', 'B-LOC', 'I-LOC']]
>>> tags_to_spans(["张三在北京"], tags)
[[Span(start=0, end=2, type='PER'), Span(start=3, end=5, type='LOC')]]
>>> spans_to_tags(["New York now"], [[(0, 8, "LOC")]], token_unit="word")
([['New', 'York', 'now']], [['B-LOC', 'I-LOC', 'O']])
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ...core.errors import InputError
from ...core.tags import normalize_scheme, spans_from_tags, tags_from_spans
from ...core.text import TOKENIZERS
from .records import Span, as_span, logger

BOUNDARY_RULES = ("expand", "refuse")
EXAMPLES = 5


def tokenizer_of(token_unit) -> Callable[[str], tuple]:
    """The ``text -> (tokens, offsets)`` function of ``"char"``, ``"word"`` or a callable."""
    if callable(token_unit):
        return token_unit
    if token_unit not in TOKENIZERS:
        raise ValueError(f"token_unit must be one of {tuple(TOKENIZERS)} or a tokenize callable, not {token_unit!r}")
    return TOKENIZERS[token_unit]


@dataclass
class SpanAlignment:
    """What :func:`align_spans` produced: tokens, their character offsets, tags, and every span it
    had to adjust as ``(text_index, span, reason, adjusted_span)`` (``reason``: ``"trimmed
    whitespace"`` or ``"edge inside a token"``)."""

    tokens: list = field(default_factory=list)
    offsets: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    adjusted: list = field(default_factory=list)


def _describe(texts, adjusted, limit=EXAMPLES):
    return "; ".join(f"text {i}: {texts[i][s.start:s.end]!r} {tuple(s)} -> {texts[i][a.start:a.end]!r} ({reason})"
                     for i, s, reason, a in adjusted[:limit])


def align_spans(texts: Sequence[str], entities: Sequence[Sequence], token_unit="char", scheme: str = "BIO",
                boundary: str = "expand") -> SpanAlignment:
    """Tokens, offsets and tags of ``texts`` with ``entities`` (spans, ``Entity`` objects or dicts
    per text) mapped onto the tokens by the rules of this module; nothing is logged here."""
    if boundary not in BOUNDARY_RULES:
        raise ValueError(f"boundary must be one of {BOUNDARY_RULES}, not {boundary!r}")
    if len(texts) != len(entities):
        raise InputError(f"{len(texts)} texts but {len(entities)} entity lists")
    scheme = normalize_scheme(scheme)
    tokenize = tokenizer_of(token_unit)
    result, refused = SpanAlignment(), []
    for i, (text, items) in enumerate(zip(texts, entities)):
        if not isinstance(text, str):
            raise InputError(f"text {i} must be a string, got {type(text).__name__}")
        tokens, offsets = tokenize(text)
        starts = [s for s, _ in offsets]
        ends = [e for _, e in offsets]
        token_spans = []
        for item in items:
            span = as_span(item)
            if not 0 <= span.start < span.end <= len(text):
                raise InputError(f"text {i}: span {tuple(span)} is out of range for {len(text)} characters")
            first = bisect.bisect_right(ends, span.start)  # first token ending after the span's start
            last = bisect.bisect_left(starts, span.end) - 1  # last token starting before its end
            if first > last:
                raise InputError(f"text {i}: span {tuple(span)} {text[span.start:span.end]!r} covers no token")
            adjusted = Span(starts[first], ends[last], span.type)
            if starts[first] < span.start or ends[last] > span.end:
                result.adjusted.append((i, span, "edge inside a token", adjusted))
                refused.append(result.adjusted[-1])
            elif adjusted != span:
                result.adjusted.append((i, span, "trimmed whitespace", adjusted))
            token_spans.append((span.type, first, last + 1, span))
        token_spans.sort(key=lambda s: (s[1], s[2]))
        for a, b in zip(token_spans, token_spans[1:]):
            if b[1] < a[2]:
                raise InputError(f"text {i}: spans {tuple(a[3])} and {tuple(b[3])} share a token "
                                 f"{tokens[b[1]]!r}: overlapping spans cannot be tagged")
        result.tokens.append(tokens)
        result.offsets.append(offsets)
        result.tags.append(tags_from_spans([s[:3] for s in token_spans], len(tokens), scheme))
    if refused and boundary == "refuse":
        raise InputError(f"{len(refused)} span(s) start or end inside a token (boundary='expand' widens them to "
                         f"whole tokens): {_describe(texts, refused)}")
    return result


def spans_to_tags(texts: Sequence[str], entities: Sequence[Sequence], token_unit="char", scheme: str = "BIO",
                  boundary: str = "expand"):
    """``(token lists, tag lists)`` for ``model.fit(*spans_to_tags(texts, entities))``.

    Args:
        texts: raw strings.
        entities: per text, spans ``(start, end, type)`` (character offsets, end exclusive),
            ``Entity`` objects or ``{"start", "end", "type"}`` dicts, non-overlapping.
        token_unit: ``"char"``, ``"word"`` or a ``tokenize(text) -> (tokens, offsets)`` callable
            (``model.tokenize`` for a trained model).
        scheme: tag scheme of the result (BIO, IOB1, BIOES or BMES).
        boundary: ``"expand"`` widens a span whose edge falls inside a token to whole tokens;
            ``"refuse"`` raises :class:`InputError` instead. Either way adjustments are logged
            as one warning with their count and first examples.
    """
    alignment = align_spans(texts, entities, token_unit, scheme, boundary)
    if alignment.adjusted:
        reasons = {}
        for item in alignment.adjusted:
            reasons[item[2]] = reasons.get(item[2], 0) + 1
        logger.warning("%d span(s) adjusted to token boundaries (%s); first: %s", len(alignment.adjusted),
                       ", ".join(f"{n} {r}" for r, n in reasons.items()), _describe(texts, alignment.adjusted))
    return alignment.tokens, alignment.tags


def tags_to_spans(texts: Sequence[str], tags: Sequence[Sequence[str]], token_unit="char", scheme: str = "BIO"):
    """Per text, the :class:`Span` list of its tags (one per token of ``token_unit``'s tokenization),
    mapped back to character offsets; the way back of :func:`spans_to_tags`."""
    if len(texts) != len(tags):
        raise InputError(f"{len(texts)} texts but {len(tags)} tag sequences")
    tokenize = tokenizer_of(token_unit)
    out = []
    for i, (text, sequence) in enumerate(zip(texts, tags)):
        tokens, offsets = tokenize(text)
        if len(tokens) != len(sequence):
            raise InputError(f"text {i} has {len(tokens)} tokens but {len(sequence)} tags")
        out.append([Span(offsets[start][0], offsets[end - 1][1], etype)
                    for etype, start, end in spans_from_tags(sequence, scheme)])
    return out
