"""Token features as integer ids: the token itself and, optionally, its bigram and lexicon matches.

A bigram feature pairs each token with the next one (the last with an end marker), the
feature that lifts character BiLSTM-CRF taggers on Chinese NER (Zhang & Yang 2018). Lexicon
features say, for each token, which dictionary words it begins, continues or ends (the
type of the longest such word for each of B / M / E, in the spirit of SoftLexicon, Ma et al.
2020): external knowledge of names and places that the training corpus lacks. The encoder
is pure numpy so the exported runtime computes exactly the ids the model trained on.

>>> from bilstm_crf_ner.vocab import Vocabulary
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
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import CorpusFormatError
from .vocab import PAD, UNK, Vocabulary

END = "</s>"
SEPARATOR = "\x1f"


def bigrams(tokens: Sequence[str]) -> list[str]:
    """``token[i] + SEPARATOR + token[i+1]`` for each position, the last paired with ``END``."""
    return [a + SEPARATOR + b for a, b in zip(tokens, list(tokens[1:]) + [END])]


class Lexicon:
    """Dictionary words (``{word: type}``, words of 2 to ``max_length`` tokens) matched in token lists.

    ``encode(tokens)`` gives ids ``[T, 3]``: for each token the type id (in ``types``) of the
    longest word that begins (B), continues (M) or ends (E) at it, or 1 when none does.
    Multi-token words are matched on the tokens joined by ``joiner``.
    """

    def __init__(self, words: dict, max_length: int = 8, joiner: str = ""):
        self.max_length, self.joiner = int(max_length), joiner
        self.words = {w: t for w, t in words.items() if 2 <= len(w.split(" ") if joiner else w) <= self.max_length}
        self.types = Vocabulary([PAD, UNK] + sorted(set(self.words.values()) - {PAD, UNK}))
        self._type_ids = {t: self.types.encode([t])[0] for t in set(self.words.values())}
        sizes = {len(w.split(" ")) if joiner else len(w) for w in self.words}
        self._lengths = sorted(sizes, reverse=True)  # longest first: the first match at a position wins

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        n = len(tokens)
        out = np.ones((n, 3), np.int32)
        taken = np.zeros((n, 3), np.int32)  # length of the word that set each entry
        words, gap = self.words, len(self.joiner)
        text = self.joiner.join(tokens)  # candidate words are slices of it (cheaper than joining each)
        offsets = [0]
        for token in tokens:
            offsets.append(offsets[-1] + len(token) + gap)
        for start in range(n):
            begin = offsets[start]
            for length in self._lengths:
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

    def __init__(self, vocab: Vocabulary, bigram_vocab: Vocabulary | None = None, lexicon: Lexicon | None = None):
        self.vocab, self.bigram_vocab, self.lexicon = vocab, bigram_vocab, lexicon

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
