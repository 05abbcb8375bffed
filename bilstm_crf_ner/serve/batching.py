"""What a batch of queued requests runs: one Tagger call for all the texts gathered.

Pure functions over a :class:`~bilstm_crf_ner.runtime.Tagger` (no Ray), so the glue that makes
"the same answer as alone" hold is tested without a server. The Tagger sorts the texts of the
call by length, pads per batch and decodes each row on its own: a text's answer does not depend
on what shared its batch.

>>> group_by_scheme([(["a"], "BIO"), (["b"], None), (["c"], "BIO")])
{'BIO': [0, 2], None: [1]}
"""

from __future__ import annotations

from typing import Sequence


def tag_texts(tagger, texts: Sequence[str], batch_size: int) -> list:
    """Entities of every text, in order, from one ``predict_entities`` call."""
    return tagger.predict_entities(list(texts), batch_size=batch_size)


def group_by_scheme(items: Sequence[tuple[list, str | None]]) -> dict:
    """Indices of ``(tokens, tag_scheme)`` items grouped by scheme, first-seen order."""
    groups: dict = {}
    for i, (_, scheme) in enumerate(items):
        groups.setdefault(scheme, []).append(i)
    return groups


def tag_token_lists(tagger, items: Sequence[tuple[list, str | None]], batch_size: int) -> list:
    """Tags of every ``(tokens, tag_scheme)`` item, in order: one ``predict`` call per scheme asked for."""
    out: list = [None] * len(items)
    for scheme, indices in group_by_scheme(items).items():
        tags = tagger.predict([items[i][0] for i in indices], batch_size=batch_size, tag_scheme=scheme)
        for i, row in zip(indices, tags):
            out[i] = row
    return out
