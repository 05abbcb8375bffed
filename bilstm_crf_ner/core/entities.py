"""Entities found in text: type, offsets and surface string.

>>> extract_entities(["张", "三", "说"], ["B-PER", "E-PER", "O"], "BIOES", joiner="")
[Entity(type='PER', start=0, end=2, text='张三', confidence=None)]
>>> extract_entities(["张", "三"], ["B-PER", "I-PER"], "BIO", text="张 三", offsets=[(0, 1), (2, 3)])
[Entity(type='PER', start=0, end=3, text='张 三', confidence=None)]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from .tags import spans_from_tags


@dataclass(frozen=True)
class Entity:
    """One entity. ``start``/``end`` (exclusive) are character offsets into the raw text when a
    string was given, token indices when a token list was given; ``text`` is the surface form.
    ``confidence`` is the model's probability of exactly this entity (type and both
    boundaries), or ``None`` where no probability was computed."""

    type: str
    start: int
    end: int
    text: str
    confidence: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def extract_entities(tokens: Sequence[str], tags: Sequence[str], scheme: str, joiner: str = "",
                     text: str | None = None, offsets: Sequence[tuple[int, int]] | None = None,
                     confidences: Sequence[float] | None = None) -> list[Entity]:
    """Entities of one tagged sentence, mapped to character offsets when ``offsets`` are given.

    ``confidences``, if given, holds one probability per span in :func:`spans_from_tags` order.
    """
    entities = []
    for index, (etype, start, end) in enumerate(spans_from_tags(tags, scheme)):
        confidence = None if confidences is None else float(confidences[index])
        if offsets is not None:
            char_start, char_end = offsets[start][0], offsets[end - 1][1]
            entities.append(Entity(etype, char_start, char_end, text[char_start:char_end], confidence))
        else:
            entities.append(Entity(etype, start, end, joiner.join(tokens[start:end]), confidence))
    return entities
