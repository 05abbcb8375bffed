"""Training data that need not fit in memory: streams of ``(tokens, tags)`` pairs.

``BLSTMCRFModel.fit(pairs)`` (no ``y_train``) accepts

* any re-iterable of pairs (a list, or an object whose ``__iter__`` reads a file anew),
* a function returning a fresh iterator (``lambda: read_pairs("big.conll")``),
* a ``tf.data.Dataset`` whose elements are ``(tokens, tags)`` string tensors of equal length.

The data is read once to build the vocabularies and tag set, then once per epoch; only one
pool of sentences (for length bucketing) is held in memory. A one-shot generator cannot be
read several times, so it is refused with an explanation.

>>> stream = PairStream(lambda: iter([(["北", "京"], ["B-LOC", "I-LOC"])]))
>>> list(stream)
[(['北', '京'], ['B-LOC', 'I-LOC'])]
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from ..core.errors import InputError


def _decode(values) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


class PairStream:
    """A re-readable, validated stream of ``(tokens, tags)`` pairs (see the module docstring)."""

    def __init__(self, source, name: str = "training data"):
        self.name = name
        if hasattr(source, "as_numpy_iterator") and hasattr(source, "element_spec"):  # tf.data.Dataset
            self._open: Callable[[], Iterator] = lambda: ((_decode(t), _decode(y)) for t, y in source.as_numpy_iterator())
        elif callable(source):
            self._open = source
        elif isinstance(source, Iterable):
            if iter(source) is source:
                raise InputError(f"{name} is a one-shot iterator (e.g. a generator), but training reads the data "
                                 "several times: pass a list, a re-iterable object, or a function that returns a new "
                                 "iterator (e.g. lambda: my_generator(path))")
            self._open = lambda: iter(source)
        else:
            raise InputError(f"{name} must be an iterable of (tokens, tags) pairs, a function returning one, or a "
                             f"tf.data.Dataset, not {type(source).__name__}")

    def __iter__(self):
        for i, pair in enumerate(self._open()):
            try:
                tokens, tags = pair
            except (TypeError, ValueError):
                raise InputError(f"{self.name}: item {i} is not a (tokens, tags) pair") from None
            if isinstance(tokens, str) or isinstance(tags, str):
                raise InputError(f"{self.name}: item {i} must hold a token list and a tag list, not strings")
            tokens, tags = list(tokens), list(tags)
            if not tokens:
                raise InputError(f"{self.name}: item {i} is an empty sentence")
            if len(tokens) != len(tags):
                raise InputError(f"{self.name}: item {i} has {len(tokens)} tokens but {len(tags)} tags")
            for j, token in enumerate(tokens):
                if not isinstance(token, str) or not token or token.isspace():
                    raise InputError(f"{self.name}: item {i} token {j} ({token!r}) is not a non-empty string")
            yield tokens, tags
