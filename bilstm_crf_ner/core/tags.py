"""Tag schemes: parsing, lossless conversion, entity spans and allowed transitions.

Schemes
-------
``BIO``   (IOB2) every entity starts with ``B-``, continues with ``I-``.
``IOB1``  an entity starts with ``I-`` unless it directly follows an entity of the same type.
``BIOES`` ``B-`` begin, ``I-`` inside, ``E-`` end, ``S-`` single-token entity.
``BMES``  as BIOES with ``M-`` for inside (common in Chinese corpora).

Reading is lenient, like conlleval: an ``I-X`` that cannot continue an entity (for
example at the start of a sentence, which happens in the real MSRA corpus) starts a new
one. Converting a sequence to its own scheme therefore *repairs* it; converting valid
sequences between schemes is lossless.

>>> spans_from_tags(["B-PER", "I-PER", "O", "I-LOC"], "BIO")
[('PER', 0, 2), ('LOC', 3, 4)]
>>> convert_tags(["B-PER", "I-PER", "O", "B-LOC"], "BIO", "BIOES")
['B-PER', 'E-PER', 'O', 'S-LOC']
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .errors import TagSchemeError

SCHEMES = ("BIO", "IOB1", "BIOES", "BMES")
#: Schemes a model may use internally (IOB1 and BMES are accepted as data formats).
MODEL_SCHEMES = ("BIO", "BIOES")
OUTSIDE = "O"

_PREFIXES = {
    "BIO": ("B", "I"),
    "IOB1": ("B", "I"),
    "BIOES": ("B", "I", "E", "S"),
    "BMES": ("B", "M", "E", "S"),
}


def normalize_scheme(scheme: str) -> str:
    """Return the canonical name of ``scheme`` (``"iob2"`` -> ``"BIO"``) or raise."""
    name = str(scheme).upper()
    name = {"IOB2": "BIO", "IOBES": "BIOES"}.get(name, name)
    if name not in SCHEMES:
        raise TagSchemeError(f"unknown tag scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    return name


def parse_tag(tag: str, scheme: str = "BIO") -> tuple[str, str | None]:
    """Split ``"B-PER"`` into ``("B", "PER")``; ``"O"`` gives ``("O", None)``."""
    return _parse(tag, _PREFIXES[normalize_scheme(scheme)], scheme)


def _parse(tag, prefixes, scheme):
    if tag == OUTSIDE:
        return OUTSIDE, None
    if not isinstance(tag, str) or len(tag) < 3 or tag[1] != "-":
        raise TagSchemeError(f"malformed tag {tag!r}: expected 'O' or PREFIX-TYPE such as 'B-PER'")
    prefix = tag[0]
    if prefix not in prefixes:
        raise TagSchemeError(f"tag {tag!r} does not belong to the {scheme} scheme")
    return prefix, tag[2:]


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Guess the scheme of a corpus: BIOES if it uses ``E-``/``S-``, BMES if ``M-``, else BIO.

    BIO and IOB1 read identically (see the module docstring), so ``"BIO"`` is returned for both.
    """
    prefixes = set()
    for tags in tag_sequences:
        for tag in tags:
            if tag != OUTSIDE:
                prefixes.add(tag[:2])
    return scheme_of_prefixes(prefixes)


def scheme_of_prefixes(prefixes) -> str:
    """The scheme :func:`detect_scheme` infers from the set of tag prefixes (``"B-"``, ``"E-"``, ...) seen."""
    if "M-" in prefixes:
        return "BMES"
    if "E-" in prefixes or "S-" in prefixes:
        return "BIOES"
    return "BIO"


def spans_from_tags(tags: Sequence[str], scheme: str = "BIO") -> list[tuple[str, int, int]]:
    """Entity spans ``(type, start, end)`` with ``end`` exclusive, read leniently."""
    scheme = normalize_scheme(scheme)
    prefixes = _PREFIXES[scheme]
    spans: list[tuple[str, int, int]] = []
    current: str | None = None  # type of the open entity
    start = 0
    for i, tag in enumerate(tags):
        prefix, etype = _parse(tag, prefixes, scheme)
        if prefix == OUTSIDE:
            if current is not None:
                spans.append((current, start, i))
            current = None
        elif prefix == "S":
            if current is not None:
                spans.append((current, start, i))
            spans.append((etype, i, i + 1))
            current = None
        elif prefix == "B" and scheme != "IOB1" or current != etype:
            # A new entity: an explicit begin, or a continuation tag that cannot continue.
            if current is not None:
                spans.append((current, start, i))
            current, start = etype, i
            if prefix == "E":
                spans.append((etype, i, i + 1))
                current = None
        elif prefix == "B":  # IOB1: B- separates two adjacent entities of the same type
            spans.append((current, start, i))
            start = i
        elif prefix == "E":
            spans.append((current, start, i + 1))
            current = None
        # else I-/M- continuing the open entity
    if current is not None:
        spans.append((current, start, len(tags)))
    return spans


def tags_from_spans(spans: Iterable[tuple[str, int, int]], length: int, scheme: str = "BIO") -> list[str]:
    """Write non-overlapping spans as a tag sequence of ``length`` in ``scheme``."""
    scheme = normalize_scheme(scheme)
    tags = [OUTSIDE] * length
    inside = "M" if scheme == "BMES" else "I"
    previous_end, previous_type = -1, None
    for etype, start, end in sorted(spans, key=lambda s: s[1]):
        if not 0 <= start < end <= length or start < previous_end:
            raise TagSchemeError(f"span {(etype, start, end)} is out of range or overlaps another")
        for i in range(start, end):
            tags[i] = f"{inside}-{etype}"
        if scheme in ("BIOES", "BMES"):
            if end - start == 1:
                tags[start] = f"S-{etype}"
            else:
                tags[start], tags[end - 1] = f"B-{etype}", f"E-{etype}"
        elif scheme == "BIO" or (previous_end == start and previous_type == etype):
            tags[start] = f"B-{etype}"
        previous_end, previous_type = end, etype
    return tags


def convert_tags(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Convert one tag sequence between schemes (repairing it if it is invalid in ``source``)."""
    return tags_from_spans(spans_from_tags(tags, source), len(tags), target)


def entity_types(tag_sequences: Iterable[Sequence[str]], scheme: str = "BIO") -> list[str]:
    """Sorted entity types used in a corpus."""
    types = set()
    for tags in tag_sequences:
        for tag in tags:
            _, etype = parse_tag(tag, scheme)
            if etype is not None:
                types.add(etype)
    return sorted(types)


def tag_inventory(types: Sequence[str], scheme: str) -> list[str]:
    """All tags of ``scheme`` for ``types``: ``O`` first, then by type and prefix."""
    scheme = normalize_scheme(scheme)
    return [OUTSIDE] + [f"{p}-{t}" for t in sorted(types) for p in _PREFIXES[scheme]]


def allowed_transitions(tags: Sequence[str], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks of the transitions a valid sequence may take.

    Returns ``(transitions [K, K], start [K], end [K])`` where ``transitions[i, j]`` says
    whether tag ``j`` may follow tag ``i``. Only the model schemes (BIO, BIOES) are supported.
    """
    scheme = normalize_scheme(scheme)
    if scheme not in MODEL_SCHEMES:
        raise TagSchemeError(f"constraints are defined for {MODEL_SCHEMES}, not {scheme}")
    parsed = [parse_tag(t, scheme) for t in tags]
    k = len(tags)
    trans = np.zeros((k, k), dtype=bool)
    start = np.zeros(k, dtype=bool)
    end = np.zeros(k, dtype=bool)
    for j, (pj, tj) in enumerate(parsed):
        continues = pj in ("I", "E") if scheme == "BIOES" else pj == "I"
        start[j] = not continues
        end[j] = pj in (OUTSIDE, "E", "S") if scheme == "BIOES" else True
        for i, (pi, ti) in enumerate(parsed):
            if scheme == "BIOES":
                open_entity = pi in ("B", "I")
                trans[i, j] = (open_entity and continues and ti == tj) or (not open_entity and not continues)
            else:
                trans[i, j] = not continues or (pi in ("B", "I") and ti == tj)
    return trans, start, end


def is_valid(tags: Sequence[str], scheme: str) -> bool:
    """Whether ``tags`` is a strictly valid sequence of ``scheme`` (BIO or BIOES)."""
    inventory = sorted(set(tags) | {OUTSIDE})
    trans, start, end = allowed_transitions(inventory, scheme)
    index = {t: i for i, t in enumerate(inventory)}
    ids = [index[t] for t in tags]
    if not ids:
        return True
    return bool(start[ids[0]] and end[ids[-1]] and all(trans[a, b] for a, b in zip(ids, ids[1:])))
