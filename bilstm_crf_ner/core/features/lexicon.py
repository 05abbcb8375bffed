"""Lexicon features: for each token, the types of the longest dictionary words it begins,
continues or ends (B / M / E), in the spirit of SoftLexicon (Ma et al. 2020).

>>> lexicon = Lexicon({"北京": "ns", "北京大学": "nt"})
>>> lexicon.encode(list("在北京大学")).tolist()  # B / M / E type ids; 1 = no word
[[1, 1, 1], [3, 1, 1], [1, 3, 2], [1, 3, 1], [1, 1, 3]]
>>> lexicon.types.tokens
['<pad>', '<unk>', 'ns', 'nt']
"""

from __future__ import annotations

import functools
import itertools
from typing import Sequence

import numpy as np

from ..compiled import numba_enabled
from ..errors import ModelLoadError
from ..vocab import PAD, UNK, Vocabulary
from .codes import BATCHED_FROM_TOKENS, code_points, pack
from .hashtable import IntHashTable


#: The arrays of a built lexicon (:meth:`Lexicon.arrays`), saved as ``.npy`` files and loaded memory-mapped.
ARRAYS = ("root", "edge_keys", "edge_values", "word_type", "lengths")


class Lexicon:
    """Dictionary words (``{word: type}``, words of 2 to ``max_length`` tokens) matched in token lists.

    ``encode(tokens)`` gives ids ``[T, 3]``: for each token the type id (in ``types``) of the
    longest word that begins (B), continues (M) or ends (E) at it, or 1 when none does; a
    token inside several longest words takes the one that starts first. Multi-token words are
    matched on the tokens joined by ``joiner``. ``encode_many`` does a whole batch in a few
    vectorised steps: the words form a character trie (its edges in a numpy hash table), walked
    from every token start at once, one character per step; with numba installed (the ``[fast]``
    extra) a compiled walk of the same trie does it instead, with the same results.
    """

    def __init__(self, words: dict, max_length: int = 8, joiner: str = ""):
        self.max_length, self.joiner = int(max_length), joiner
        #: Batches of fewer tokens are matched sentence by sentence by slicing (cheaper when tiny).
        self.batched_from_tokens = BATCHED_FROM_TOKENS
        self._words = {w: t for w, t in words.items() if 2 <= len(w.split(" ") if joiner else w) <= self.max_length}
        self._load_words = None
        self.word_count = len(self._words)
        self.types = Vocabulary([PAD, UNK] + sorted(set(self._words.values()) - {PAD, UNK}))
        sizes = {len(w.split(" ")) if joiner else len(w) for w in self._words}
        self._lengths = np.zeros(self.max_length + 1, dtype=bool)  # token counts that some word has
        self._lengths[sorted(sizes)] = True
        self._max_chars = max((len(w) for w in self._words), default=0)
        self._index_types_and_lengths()
        edges, children, self._word_type = _character_trie(list(self._words),
                                                           [self._type_ids[t] for t in self._words.values()])
        roots = edges < pack(1, 0)  # edges from state 0: their keys are the code points
        self._root = np.zeros(int(edges[roots].max(initial=-1)) + 1, dtype=np.int64)
        self._root[edges[roots]] = children[roots]
        self._edges = IntHashTable(edges, children)

    # ------------------------------------------------------------------ the built form
    def arrays(self) -> dict[str, np.ndarray]:
        """The built matcher as named arrays (:data:`ARRAYS`), for :meth:`from_arrays`."""
        keys, values = self._edges.table
        return {"root": self._root, "edge_keys": keys, "edge_values": values, "word_type": self._word_type,
                "lengths": self._lengths}

    def settings(self) -> dict:
        """What :meth:`from_arrays` needs besides the arrays (JSON-serializable)."""
        return {"words": self.word_count, "types": self.types.to_list(), "max_chars": self._max_chars}

    @classmethod
    def from_arrays(cls, arrays: dict, settings: dict, max_length: int, joiner: str, load_words) -> "Lexicon":
        """A lexicon from :meth:`arrays` (e.g. memory-mapped ``.npy`` files) and :meth:`settings`,
        without building anything. The word list, which only :attr:`words` and single-sentence
        matching by slicing need, comes from ``load_words()`` the first time it is asked for;
        until then every batch, however small, goes through the trie."""
        lexicon = cls.__new__(cls)
        lexicon.max_length, lexicon.joiner = int(max_length), joiner
        lexicon.batched_from_tokens = 0
        lexicon._words, lexicon._load_words = None, load_words
        lexicon.word_count = int(settings["words"])
        lexicon.types = Vocabulary(settings["types"])
        lexicon._max_chars = int(settings["max_chars"])
        lexicon._lengths, lexicon._word_type, lexicon._root = arrays["lengths"], arrays["word_type"], arrays["root"]
        lexicon._edges = IntHashTable.from_table(arrays["edge_keys"], arrays["edge_values"])
        lexicon._index_types_and_lengths()
        return lexicon

    @property
    def words(self) -> dict:
        """``{word: type}`` of the words matched (loaded on first use for a lexicon from arrays)."""
        if self._words is None:
            words = self._load_words()
            if len(words) != self.word_count:
                raise ModelLoadError(f"the lexicon's word list has {len(words)} words but its arrays were built "
                                     f"from {self.word_count}")
            self._words = words
        return self._words

    def _index_types_and_lengths(self) -> None:
        """The lookups slicing needs, from ``types`` and ``_lengths`` (both constructors)."""
        self._type_ids = {t: i for i, t in enumerate(self.types.tokens)}
        self._longest_first = np.flatnonzero(self._lengths)[::-1].tolist()

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        if self._words is None:  # from arrays: the trie, not the (unloaded) word list
            return self.encode_many([tokens])[0]
        return self._match_one(list(tokens))

    def encode_many(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """``encode`` of each sentence, computed for all of them together."""
        sentences = [list(tokens) for tokens in sentences]
        if not sentences:
            return []
        counts = np.array([len(tokens) for tokens in sentences], dtype=np.int64)
        total = int(counts.sum())
        if total < self.batched_from_tokens:
            return [self._match_one(tokens) for tokens in sentences]
        out = np.ones((total, 3), np.int32)
        if len(self._root):
            self._match(sentences, counts, out)
        return np.split(out, np.cumsum(counts)[:-1])

    def _match(self, sentences, counts, out):
        gap = len(self.joiner)
        texts = [self.joiner.join(tokens) for tokens in sentences]
        text = "".join(texts)
        codes = code_points(text)
        token_lengths = np.fromiter(map(len, itertools.chain.from_iterable(sentences)), dtype=np.int64, count=len(out))
        if (token_lengths == 0).any():  # empty tokens share end positions: one sentence at a time
            for tokens, rows in zip(sentences, np.split(out, np.cumsum(counts)[:-1])):
                rows[:] = self._match_one(tokens)
            return
        sentence_of = np.repeat(np.arange(len(sentences)), counts)
        text_starts = np.cumsum([0] + [len(t) for t in texts])
        first_token = np.cumsum(np.concatenate([[0], counts]))
        token_index = np.arange(len(out))
        before = np.cumsum(token_lengths + gap) - (token_lengths + gap)  # characters before each token
        starts = text_starts[sentence_of] + before - before[first_token[sentence_of]]
        limits = text_starts[sentence_of + 1]  # each token's sentence end
        stop_at = np.full(len(text) + 1, -1, dtype=np.int64)  # text position -> (token index + 1) ending there
        stop_at[starts + token_lengths] = token_index + 1
        self._walk(codes, starts, limits, stop_at, out)

    def encode_characters(self, codes: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """B / M / E ids ``[N, 3]`` of sentences whose tokens are all single characters, from their
        code points joined (``codes [N]``) and token counts: what ``encode_many`` gives for them,
        without rebuilding the text (the character encoder already has its code points). Needs
        ``joiner == ""``, the joiner of character models."""
        if self.joiner:
            raise ValueError("encode_characters needs a lexicon of characters joined by ''")
        total = len(codes)
        out = np.ones((total, 3), np.int32)
        if not total or not len(self._root):
            return out
        counts = np.asarray(counts, dtype=np.int64)
        limits = np.repeat(np.cumsum(counts), counts)  # each token's sentence end
        stop_at = np.arange(total + 1, dtype=np.int64)  # character position -> index + 1 of the token ending there
        stop_at[0] = -1
        self._walk(np.asarray(codes, dtype=np.int64), np.arange(total, dtype=np.int64), limits, stop_at, out)
        return out

    def _walk(self, codes, starts, limits, stop_at, out):
        """Fill ``out`` from the trie walked at every token start (see ``lexicon_numba.walk`` for
        the arguments): compiled where numba is installed, else the numpy walk below."""
        compiled = compiled_walk()
        if compiled is not None:
            compiled(codes, starts, limits, stop_at, self._root, self._edges.table, self._word_type, self._lengths,
                     self._max_chars, self.max_length, out)
            return
        # Walk the trie from every token start; positions drop out at their first mismatch.
        begin, positions = np.arange(len(out)), starts
        found = []
        for depth in range(self._max_chars):
            alive = positions < limits[begin]
            begin, positions = begin[alive], positions[alive]
            if depth == 0:  # the root's children in a table indexed by code point
                code = codes[positions]
                state = self._root[np.minimum(code, len(self._root) - 1)]
                alive = (state > 0) & (code < len(self._root))
                begin, positions, state = begin[alive], positions[alive] + 1, state[alive]
            else:
                state = self._edges.get(pack(state[alive], codes[positions]))
                alive = state >= 0
                begin, positions, state = begin[alive], positions[alive] + 1, state[alive]
            if not len(begin):
                break
            kind = self._word_type[state]
            stop = stop_at[positions]
            span = stop - begin
            hit = (kind > 0) & (stop > begin) & (span <= self.max_length)
            hit[hit] &= self._lengths[span[hit]]
            found.append((begin[hit], stop[hit], kind[hit]))
        if not found:
            return
        begin, stop, kind = (np.concatenate(parts) for parts in zip(*found))
        span = stop - begin
        # B: longest word starting at each token; E: longest word ending at it.
        for column, where in ((0, begin), (2, stop - 1)):
            order = np.lexsort((-span, where))
            first = np.unique(where[order], return_index=True)[1]
            out[where[order][first], column] = kind[order][first]
        # M: longest word strictly covering each token, the earliest start on ties.
        inner = np.maximum(span - 2, 0)
        if inner.any():
            word = np.repeat(np.arange(len(begin)), inner)
            position = begin[word] + 1 + np.arange(len(word)) - np.repeat(np.cumsum(inner) - inner, inner)
            order = np.lexsort((begin[word], -span[word], position))
            first = np.unique(position[order], return_index=True)[1]
            out[position[order][first], 1] = kind[word[order][first]]

    def _match_one(self, tokens):
        """One sentence by slicing the joined text at every span length (faster than the batch
        machinery for a single sentence; the reference the tests hold both to)."""
        n = len(tokens)
        out = np.ones((n, 3), np.int32)
        taken = np.zeros((n, 3), np.int32)  # length of the word that set each entry
        words, gap = self.words, len(self.joiner)
        text = self.joiner.join(tokens)
        offsets = [0]
        for token in tokens:
            offsets.append(offsets[-1] + len(token) + gap)
        for start in range(n):
            begin = offsets[start]
            for length in self._longest_first:
                stop = start + length
                if stop > n:
                    continue
                kind = words.get(text[begin:offsets[stop] - gap])
                if kind is None:
                    continue
                type_id = self._type_ids[kind]
                if length > taken[start, 0]:
                    out[start, 0], taken[start, 0] = type_id, length
                inner = slice(start + 1, stop - 1)
                better = taken[inner, 1] < length
                out[inner, 1][better], taken[inner, 1][better] = type_id, length
                if length > taken[stop - 1, 2]:
                    out[stop - 1, 2], taken[stop - 1, 2] = type_id, length
        return out


@functools.lru_cache(maxsize=None)
def compiled_walk():
    """The numba matcher (:func:`~bilstm_crf_ner.core.features.lexicon_numba.walk`: the numpy
    walk's results), or ``None`` without numba or with ``BILSTM_CRF_NER_NUMBA=0``."""
    if not numba_enabled():
        return None
    from .lexicon_numba import walk

    return walk


def _character_trie(words: Sequence[str], types: Sequence[int]):
    """A trie of ``words`` as edge keys ``pack(parent, code point)`` (level by level), the child
    state of each edge and the type id of the word ending at each state (0: none); state 0 is
    the root. Built with one ``np.unique`` per character position, not word by word."""
    if not words:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(1, dtype=np.int64)
    width = max(len(w) for w in words)
    padded = "".join(w.ljust(width, "\0") for w in words)
    codes = code_points(padded).reshape(len(words), width)
    sizes = np.array([len(w) for w in words])
    state = np.zeros(len(words), dtype=np.int64)
    edges, children, count = [], [], 1
    for depth in range(width):
        longer = sizes > depth
        keys = pack(state[longer], codes[longer, depth])
        unique, inverse = np.unique(keys, return_inverse=True)
        edges.append(unique)
        children.append(np.arange(count, count + len(unique)))
        state[longer] = count + inverse.reshape(-1)
        count += len(unique)
    word_type = np.zeros(count, dtype=np.int64)
    word_type[state] = types
    return np.concatenate(edges), np.concatenate(children), word_type
