"""Token features as integer ids: the token itself and, optionally, its bigram and lexicon matches.

A bigram feature pairs each token with the next one (the last with an end marker), the
feature that lifts character BiLSTM-CRF taggers on Chinese NER (Zhang & Yang 2018). Lexicon
features say, for each token, which dictionary words it begins, continues or ends (the
type of the longest such word for each of B / M / E, in the spirit of SoftLexicon, Ma et al.
2020): external knowledge of names and places that the training corpus lacks. The encoder
is pure numpy so the exported runtime computes exactly the ids the model trained on.

>>> from bilstm_crf_ner.core.vocab import Vocabulary
>>> encoder = TokenEncoder(Vocabulary.build([list("北京")]), Vocabulary.build([bigrams(list("北京"))]))
>>> encoder.encode(list("北京")).tolist()
[[3, 3], [2, 2]]
>>> bigrams(["北", "京"])
['北\\x1f京', '京\\x1f</s>']
>>> lexicon = Lexicon({"北京": "ns", "北京大学": "nt"})
>>> lexicon.encode(list("在北京大学")).tolist()  # B / M / E type ids; 1 = no word
[[1, 1, 1], [3, 1, 1], [1, 3, 2], [1, 3, 1], [1, 1, 3]]
>>> lexicon.types.tokens
['<pad>', '<unk>', 'ns', 'nt']
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import CorpusFormatError
from .vocab import PAD, UNK, UNK_ID, Vocabulary

END = "</s>"
SEPARATOR = "\x1f"
_END_CODE = 0x1FFFFF  # stands for END in bigram keys: above every Unicode code point
_CHAR_TABLE_LIMIT = 0x30000  # characters looked up by code point in a dense table (CJK included)


def bigrams(tokens: Sequence[str]) -> list[str]:
    """``token[i] + SEPARATOR + token[i+1]`` for each position, the last paired with ``END``."""
    return [a + SEPARATOR + b for a, b in zip(tokens, list(tokens[1:]) + [END])]


class Lexicon:
    """Dictionary words (``{word: type}``, words of 2 to ``max_length`` tokens) matched in token lists.

    ``encode(tokens)`` gives ids ``[T, 3]``: for each token the type id (in ``types``) of the
    longest word that begins (B), continues (M) or ends (E) at it, or 1 when none does; a
    token inside several longest words takes the one that starts first. Multi-token words are
    matched on the tokens joined by ``joiner``. ``encode_many`` does a whole batch in a few
    vectorised steps: the words form a character trie (its edges in a numpy hash table), walked
    from every token start at once, one character per step.
    """

    #: Batches of fewer tokens are matched sentence by sentence by slicing, which is cheaper for
    #: tiny inputs (the vectorised walk has a fixed cost of about 0.2 ms).
    BATCHED_FROM_TOKENS = 64

    def __init__(self, words: dict, max_length: int = 8, joiner: str = ""):
        self.max_length, self.joiner = int(max_length), joiner
        self.words = {w: t for w, t in words.items() if 2 <= len(w.split(" ") if joiner else w) <= self.max_length}
        self.types = Vocabulary([PAD, UNK] + sorted(set(self.words.values()) - {PAD, UNK}))
        self._type_ids = {t: self.types.encode([t])[0] for t in set(self.words.values())}
        sizes = {len(w.split(" ")) if joiner else len(w) for w in self.words}
        self._lengths = np.zeros(self.max_length + 1, dtype=bool)  # token counts that some word has
        self._lengths[sorted(sizes)] = True
        self._longest_first = sorted(sizes, reverse=True)
        self._max_chars = max((len(w) for w in self.words), default=0)
        edges, children, self._word_type = _character_trie(
            list(self.words), [self._type_ids[t] for t in self.words.values()])
        roots = edges < (1 << 21)  # edges from state 0: their keys are the code points
        self._root = np.zeros(int(edges[roots].max(initial=-1)) + 1, dtype=np.int64)
        self._root[edges[roots]] = children[roots]
        self._edges = IntHashTable(edges, children)

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        return self._match_one(list(tokens))

    def encode_many(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """``encode`` of each sentence, computed for all of them together."""
        sentences = [list(tokens) for tokens in sentences]
        if not sentences:
            return []
        counts = np.array([len(tokens) for tokens in sentences], dtype=np.int64)
        total = int(counts.sum())
        if total < self.BATCHED_FROM_TOKENS:
            return [self._match_one(tokens) for tokens in sentences]
        out = np.ones((total, 3), np.int32)
        if len(self._root):
            self._match(sentences, counts, out)
        return np.split(out, np.cumsum(counts)[:-1])

    def _match(self, sentences, counts, out):
        gap = len(self.joiner)
        texts = [self.joiner.join(tokens) for tokens in sentences]
        text = "".join(texts)
        code_points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
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
        limits = text_starts[sentence_of + 1]
        stop_at = np.full(len(text) + 1, -1, dtype=np.int64)  # text position -> (token index + 1) ending there
        stop_at[starts + token_lengths] = token_index + 1
        # Walk the trie from every token start; positions drop out at their first mismatch.
        begin, positions = token_index, starts
        found = []
        for depth in range(self._max_chars):
            alive = positions < limits[begin]
            begin, positions = begin[alive], positions[alive]
            if depth == 0:  # the root's children in a table indexed by code point
                code = code_points[positions]
                state = self._root[np.minimum(code, len(self._root) - 1)]
                alive = (state > 0) & (code < len(self._root))
                begin, positions, state = begin[alive], positions[alive] + 1, state[alive]
            else:
                state = self._edges.get((state[alive] << 21) | code_points[positions])
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


def _character_trie(words: Sequence[str], types: Sequence[int]):
    """A trie of ``words`` as edge keys ``parent << 21 | code point`` (level by level), the child
    state of each edge and the type id of the word ending at each state (0: none); state 0 is
    the root. Built with one ``np.unique`` per character position, not word by word."""
    if not words:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(1, dtype=np.int64)
    width = max(len(w) for w in words)
    padded = "".join(w.ljust(width, "\0") for w in words)
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64).reshape(len(words), width)
    sizes = np.array([len(w) for w in words])
    state = np.zeros(len(words), dtype=np.int64)
    edges, children, count = [], [], 1
    for depth in range(width):
        longer = sizes > depth
        keys = (state[longer] << 21) | codes[longer, depth]
        unique, inverse = np.unique(keys, return_inverse=True)
        edges.append(unique)
        children.append(np.arange(count, count + len(unique)))
        state[longer] = count + inverse.reshape(-1)
        count += len(unique)
    word_type = np.zeros(count, dtype=np.int64)
    word_type[state] = types
    return np.concatenate(edges), np.concatenate(children), word_type


class IntHashTable:
    """A read-only map of non-negative int64 keys to int64 values with vectorised lookups
    (open addressing with triangular probing, load <= 1/4): several times faster than a binary
    search over sorted keys when the table is far larger than the CPU caches."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        keys, values = np.asarray(keys, dtype=np.int64), np.asarray(values, dtype=np.int64)
        self._bits = max(4, int(4 * len(keys)).bit_length())
        self._mask = (1 << self._bits) - 1
        self._keys = np.full(1 << self._bits, -1, dtype=np.int64)
        self._values = np.full(1 << self._bits, -1, dtype=np.int64)
        slots = self._slots(keys)
        pending, step = np.arange(len(keys)), 0
        while len(pending):  # each round: every key whose slot is free claims it (one per slot)
            slot = slots[pending]
            free = self._keys[slot] == -1
            taken, first = np.unique(slot[free], return_index=True)
            winners = pending[free][first]
            self._keys[taken], self._values[taken] = keys[winners], values[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            pending, step = pending[~placed[pending]], step + 1
            slots[pending] = (slots[pending] + step) & self._mask

    def _slots(self, keys):
        return ((keys.astype(np.uint64) * self._MULTIPLIER) >> np.uint64(64 - self._bits)).astype(np.int64)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where absent."""
        keys = np.asarray(keys, dtype=np.int64)
        slots, out = self._slots(keys), np.full(len(keys), -1, dtype=np.int64)
        todo, step = np.arange(len(keys)), 0
        while len(todo):
            slot = slots[todo]
            stored = self._keys[slot]
            hit = stored == keys[todo]
            out[todo[hit]] = self._values[slot[hit]]
            todo, step = todo[~hit & (stored != -1)], step + 1
            slots[todo] = (slots[todo] + step) & self._mask
        return out


def jieba_dictionary() -> str:
    """Path of the dictionary bundled with the ``jieba`` package (349k words with POS types)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the 'jieba' lexicon needs the jieba package: pip install jieba")
    return str(Path(spec.origin).parent / "dict.txt")


def read_lexicon(path, default_type: str = "w") -> dict:
    """A word list file as ``{word: type}``: one word per line, optionally followed by columns
    whose last non-numeric one is the word's type (jieba's ``dict.txt``: ``word freq pos``)."""
    words = {}
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"lexicon file not found: {path}")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                fields = raw.decode("utf-8").split()
            except UnicodeDecodeError as exc:
                raise CorpusFormatError(path, number, f"cannot decode line as utf-8: {exc.reason}") from None
            if not fields:
                continue
            types = [f for f in fields[1:] if not f.replace(".", "", 1).isdigit()]
            words.setdefault(fields[0].lstrip("\ufeff"), types[-1] if types else default_type)
    return words


class TokenEncoder:
    """Maps a token list to ids ``[T]`` (tokens only) or ``[T, C]``: token id, then the bigram id
    if there is a bigram vocabulary, then 3 lexicon ids (B / M / E) if there is a lexicon."""

    #: ``encode_many`` encodes batches of fewer tokens sentence by sentence (cheaper when tiny).
    BATCHED_FROM_TOKENS = 64

    def __init__(self, vocab: Vocabulary, bigram_vocab: Vocabulary | None = None, lexicon: Lexicon | None = None):
        self.vocab, self.bigram_vocab, self.lexicon = vocab, bigram_vocab, lexicon
        # Single-character tokens (character models) are looked up by code point, a whole batch at once.
        chars = [(ord(t), i) for i, t in enumerate(vocab.tokens) if len(t) == 1 and ord(t) < _CHAR_TABLE_LIMIT]
        self._char_ids = np.full(max((c for c, _ in chars), default=-1) + 1, UNK_ID, dtype=np.int32)
        for code, i in chars:
            self._char_ids[code] = i
        self._bigram_ids = None
        if bigram_vocab is not None:
            pairs = [(t.split(SEPARATOR), i) for i, t in enumerate(bigram_vocab.tokens) if t.count(SEPARATOR) == 1]
            pairs = [((ord(a) << 21) | (_END_CODE if b == END else ord(b)), i) for (a, b), i in pairs
                     if len(a) == 1 and (len(b) == 1 or b == END)]
            keys, ids = zip(*pairs) if pairs else ((), ())
            self._bigram_ids = IntHashTable(np.array(keys, dtype=np.int64), np.array(ids, dtype=np.int64))

    @property
    def channels(self) -> int:
        return 1 + (self.bigram_vocab is not None) + 3 * (self.lexicon is not None)

    @property
    def vocab_sizes(self) -> list[int]:
        return [len(self.vocab)] + ([] if self.bigram_vocab is None else [len(self.bigram_vocab)])

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        ids = self.vocab.encode(tokens)
        if self.channels == 1:
            return ids
        if not len(tokens):
            return np.zeros((0, self.channels), np.int32)
        columns = [ids[:, None]]
        if self.bigram_vocab is not None:
            columns.append(self.bigram_vocab.encode(bigrams(tokens))[:, None])
        if self.lexicon is not None:
            columns.append(self.lexicon.encode(tokens))
        return np.concatenate(columns, axis=1)

    def encode_many(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """``encode`` of each sentence; sentences of single characters are encoded together."""
        sentences = [list(tokens) for tokens in sentences]
        if not sentences:
            return []
        flat = list(itertools.chain.from_iterable(sentences))
        text = "".join(flat)
        if len(flat) < self.BATCHED_FROM_TOKENS or len(text) != len(flat) or "" in flat or SEPARATOR in text:
            return [self.encode(tokens) for tokens in sentences]  # tiny, or not all tokens one character
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.full(len(codes), UNK_ID, dtype=np.int32)
        inside = codes < len(self._char_ids)
        ids[inside] = self._char_ids[codes[inside]]
        rare = np.flatnonzero(codes >= _CHAR_TABLE_LIMIT)  # beyond the table: looked up by name
        if len(rare):
            ids[rare] = self.vocab.encode([flat[i] for i in rare])
        counts = np.array([len(tokens) for tokens in sentences], dtype=np.int64)
        columns = [ids[:, None]]
        if self.bigram_vocab is not None:
            following = np.append(codes[1:], _END_CODE)
            following[np.cumsum(counts)[counts > 0] - 1] = _END_CODE  # each sentence's last token
            bigram_ids = self._bigram_ids.get((codes << 21) | following)
            columns.append(np.where(bigram_ids < 0, UNK_ID, bigram_ids).astype(np.int32)[:, None])
        if self.lexicon is not None:
            columns.append(np.concatenate(self.lexicon.encode_many(sentences) or [np.zeros((0, 3), np.int32)]))
        out = columns[0][:, 0] if self.channels == 1 else np.concatenate(columns, axis=1).astype(np.int32)
        return np.split(out, np.cumsum(counts)[:-1])
