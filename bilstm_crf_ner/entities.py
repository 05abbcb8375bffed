"""Entities found in text: type, offsets and surface string.

>>> extract_entities(["张", "三", "说"], ["B-PER", "E-PER", "O"], "BIOES", joiner="")
[Entity(type='PER', start=0, end=2, text='张三')]
>>> extract_entities(["张", "三"], ["B-PER", "I-PER"], "BIO", text="张 三", offsets=[(0, 1), (2, 3)])
[Entity(type='PER', start=0, end=3, text='张 三')]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from .tags import spans_from_tags


@dataclass(frozen=True)
class Entity:
    """One entity. ``start``/``end`` (exclusive) are character offsets into the raw text when a
    string was given, token indices when a token list was given; ``text`` is the surface form."""

    type: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def extract_entities(tokens: Sequence[str], tags: Sequence[str], scheme: str, joiner: str = "",
                     text: str | None = None, offsets: Sequence[tuple[int, int]] | None = None) -> list[Entity]:
    """Entities of one tagged sentence, mapped to character offsets when ``offsets`` are given."""
    entities = []
    for etype, start, end in spans_from_tags(tags, scheme):
        if offsets is not None:
            char_start, char_end = offsets[start][0], offsets[end - 1][1]
            entities.append(Entity(etype, char_start, char_end, text[char_start:char_end]))
        else:
            entities.append(Entity(etype, start, end, joiner.join(tokens[start:end])))
    return entities
