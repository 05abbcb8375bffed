"""The prediction pipeline shared by the Keras model and the TensorFlow-free runtime.

raw inputs -> tokens (+ character offsets) -> ids -> length-sorted padded batches ->
``decode_batch`` (in-graph Viterbi for Keras, a runtime + numpy Viterbi for exported models)
-> tag strings or entities. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .batching import pad_batch, sorted_batches
from .entities import Entity, extract_entities
from .errors import InputError
from .tags import convert_tags, normalize_scheme

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


def decode_in_batches(id_sequences: Sequence[np.ndarray], decode_batch, batch_size: int,
                      max_tokens: int = MAX_BATCH_TOKENS) -> list[np.ndarray]:
    """Tag-id paths for each sequence; ``decode_batch(ids [B, T] int32, lengths [B]) -> [B, T]``.

    Sequences are batched by length (little padding); empty sequences give empty paths.
    """
    lengths = np.array([len(s) for s in id_sequences], dtype=np.int64)
    results = [np.zeros(0, dtype=np.int64)] * len(id_sequences)
    nonempty = np.flatnonzero(lengths > 0)
    for batch in sorted_batches(lengths[nonempty], batch_size, max_tokens):
        index = nonempty[batch]
        paths = decode_batch(pad_batch([id_sequences[i] for i in index]), lengths[index])
        for row, i in enumerate(index):
            results[i] = np.asarray(paths[row][: lengths[i]])
    return results


def paths_to_tags(paths, tags: Sequence[str], model_scheme: str, target_scheme: str) -> list[list[str]]:
    target = normalize_scheme(target_scheme)
    out = []
    for path in paths:
        sequence = [tags[i] for i in path]
        out.append(sequence if target == model_scheme else convert_tags(sequence, model_scheme, target))
    return out


def paths_to_entities(items, paths, tags: Sequence[str], model_scheme: str, joiner: str) -> list[list[Entity]]:
    return [extract_entities(tokens, [tags[i] for i in path], model_scheme, joiner, text, offsets)
            for (tokens, text, offsets), path in zip(items, paths)]
