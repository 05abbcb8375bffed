"""Token features as integer ids: the token itself and, optionally, its bigram and lexicon matches.

A bigram feature pairs each token with the next one (the last with an end marker), the
feature that lifts character BiLSTM-CRF taggers on Chinese NER (Zhang & Yang 2018). The
encoder is pure numpy so the exported runtime computes exactly the ids the model trained on.

>>> from bilstm_crf_ner.core.vocab import Vocabulary
>>> encoder = TokenEncoder(Vocabulary.build([list("北京")]), Vocabulary.build([bigrams(list("北京"))]))
>>> encoder.encode(list("北京")).tolist()
[[3, 3], [2, 2]]
>>> bigrams(["北", "京"])
['北\\x1f京', '京\\x1f</s>']
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Sequence

import numpy as np

from ..compiled import numba_enabled
from ..errors import ModelLoadError
from ..fileio import read_json, write_json
from ..text import SPACE_LIMIT, TOKENIZERS, has_space, space_table
from ..vocab import UNK_ID, Vocabulary
from .codes import BATCHED_FROM_TOKENS, code_points, pack
from .hashtable import IntHashTable
from .lexicon import ARRAYS, Lexicon

#: The bigram partner of a sentence's last token.
END = "</s>"
SEPARATOR = "\x1f"
#: Stands for ``END`` in bigram keys: above every Unicode code point.
END_CODE = 0x1FFFFF
#: Characters below this code point (CJK included) are looked up in a dense table.
CHAR_TABLE_LIMIT = 0x30000
#: Files a saved model or an export keeps beside the encoder's description.
VOCAB_FILE, BIGRAM_VOCAB_FILE, LEXICON_FILE = "vocab.json", "bigram_vocab.json", "lexicon.json"


def bigrams(tokens: Sequence[str]) -> list[str]:
    """``token[i] + SEPARATOR + token[i+1]`` for each position, the last paired with ``END``."""
    return [a + SEPARATOR + b for a, b in zip(tokens, list(tokens[1:]) + [END])]


def character_bigram_keys(tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, ids)`` of the bigram vocabulary entries of two single characters (or one and
    ``END``): ``pack(first, second)`` code points, ``END_CODE`` for ``END``, and their ids.
    Vectorised (a bigram vocabulary has 10^5 entries; a loop over them took 0.6 s of a load)."""
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    keys, ids = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    separator = ord(SEPARATOR)
    for second, width in ((None, 3), (END, 2 + len(END))):
        index = np.flatnonzero(lengths == width)
        codes = code_points("".join(tokens[i] for i in index)).reshape(len(index), width)
        if second is None:  # "a<SEP>b", neither character the separator
            keep = (codes[:, 1] == separator) & (codes[:, 0] != separator) & (codes[:, 2] != separator)
            keys.append(pack(codes[keep, 0], codes[keep, 2]))
        else:  # "a<SEP></s>"
            keep = (codes[:, 1:] == code_points(SEPARATOR + END)).all(axis=1) & (codes[:, 0] != separator)
            keys.append(pack(codes[keep, 0], np.full(int(keep.sum()), END_CODE, dtype=np.int64)))
        ids.append(index[keep])
    return np.concatenate(keys), np.concatenate(ids)


@functools.lru_cache(maxsize=None)
def compiled_character_ids():
    """The numba lookups (:func:`~bilstm_crf_ner.core.features.token_encoder_numba.character_ids`:
    the numpy code's ids), or ``None`` without numba or with ``BILSTM_CRF_NER_NUMBA=0``."""
    if not numba_enabled():
        return None
    from .token_encoder_numba import character_ids

    return character_ids


class TokenEncoder:
    """Maps a token list to ids ``[T]`` (tokens only) or ``[T, C]``: token id, then the bigram id
    if there is a bigram vocabulary, then 3 lexicon ids (B / M / E) if there is a lexicon.

    ``token_unit`` (``"char"`` or ``"word"``) says how raw strings are split into tokens."""

    def __init__(self, vocab: Vocabulary, bigram_vocab: Vocabulary | None = None, lexicon: Lexicon | None = None,
                 token_unit: str = "char"):
        self.vocab, self.bigram_vocab, self.lexicon = vocab, bigram_vocab, lexicon
        self.token_unit = token_unit
        #: ``encode_many`` encodes batches of fewer tokens sentence by sentence (cheaper when tiny).
        self.batched_from_tokens = BATCHED_FROM_TOKENS
        # Single-character tokens (character models) are looked up by code point, a whole batch at once.
        chars = [(ord(t), i) for i, t in enumerate(vocab.tokens) if len(t) == 1 and ord(t) < CHAR_TABLE_LIMIT]
        self._char_ids = np.full(max((c for c, _ in chars), default=-1) + 1, UNK_ID, dtype=np.int32)
        for code, i in chars:
            self._char_ids[code] = i
        self._bigram_ids = None if bigram_vocab is None else IntHashTable(*character_bigram_keys(bigram_vocab.tokens))

    @property
    def joiner(self) -> str:
        return "" if self.token_unit == "char" else " "

    def tokenize(self, text: str):
        return TOKENIZERS[self.token_unit](text)

    def windows(self, tokens: Sequence[str], cut_ok=None) -> list[tuple[int, int]]:
        """One window: a lookup encoder has no length limit."""
        return [(0, len(tokens))]

    @property
    def channels(self) -> int:
        return 1 + (self.bigram_vocab is not None) + 3 * (self.lexicon is not None)

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
        if len(flat) < self.batched_from_tokens or len(text) != len(flat) or "" in flat or SEPARATOR in text:
            return [self.encode(tokens) for tokens in sentences]  # tiny, or not all tokens one character
        return self._encode_characters(code_points(text), np.array([len(s) for s in sentences], dtype=np.int64))

    def encode_texts(self, texts: Sequence[str]) -> list[np.ndarray]:
        """``encode(tokenize(text)[0])`` of each raw string, without building token lists: a
        character model's texts go to code points in one step, whitespace dropped as
        ``tokenize`` drops it (what ``predict`` on strings runs; the same ids, tested)."""
        texts = list(texts)
        if not texts:
            return []
        joined = "".join(texts)
        if self.token_unit != "char" or len(joined) < self.batched_from_tokens or SEPARATOR in joined:
            return self.encode_many([self.tokenize(text)[0] for text in texts])
        codes = code_points(joined)
        counts = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        if has_space(joined):
            space = np.zeros(len(codes), dtype=bool)
            low = codes < SPACE_LIMIT
            space[low] = space_table()[codes[low]]
            owner = np.repeat(np.arange(len(texts)), counts)
            counts = counts - np.bincount(owner[space], minlength=len(texts))
            codes = codes[~space]
        return self._encode_characters(codes, counts)

    def _encode_characters(self, codes: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
        """The ids of sentences of single-character tokens, from their code points (joined) and
        token counts: a table lookup per character, bigrams as packed code-point pairs, the
        lexicon walked on the same code points."""
        out = np.empty((len(codes), self.channels), dtype=np.int32)
        compiled = compiled_character_ids()
        if compiled is not None:
            compiled(codes, counts, self._char_ids, None if self._bigram_ids is None else self._bigram_ids.table,
                     END_CODE, out)
        else:
            ids = np.full(len(codes), UNK_ID, dtype=np.int32)
            inside = codes < len(self._char_ids)
            ids[inside] = self._char_ids[codes[inside]]
            out[:, 0] = ids
            if self.bigram_vocab is not None:
                following = np.append(codes[1:], END_CODE)
                following[np.cumsum(counts)[counts > 0] - 1] = END_CODE  # each sentence's last token
                bigram_ids = self._bigram_ids.get(pack(codes, following))
                out[:, 1] = np.where(bigram_ids < 0, UNK_ID, bigram_ids)
        rare = np.flatnonzero(codes >= CHAR_TABLE_LIMIT)  # beyond the table: looked up by name
        if len(rare):
            out[rare, 0] = self.vocab.encode([chr(c) for c in codes[rare].tolist()])
        if self.channels == 1:
            return np.split(np.ascontiguousarray(out[:, 0]), np.cumsum(counts)[:-1])
        if self.lexicon is not None:
            if self.lexicon.joiner == "":
                out[:, -3:] = self.lexicon.encode_characters(codes, counts)
            else:
                sentences = [[chr(c) for c in part] for part in np.split(codes, np.cumsum(counts)[:-1])]
                out[:, -3:] = np.concatenate(self.lexicon.encode_many(sentences) or [np.zeros((0, 3), np.int32)])
        return np.split(out, np.cumsum(counts)[:-1])

    def describe(self) -> dict:
        """The JSON description :meth:`load` rebuilds this encoder from (with :meth:`save`'s files)."""
        files = {VOCAB_FILE: len(self.vocab)}
        if self.bigram_vocab is not None:
            files[BIGRAM_VOCAB_FILE] = len(self.bigram_vocab)
        lexicon = None if self.lexicon is None else {
            "file": LEXICON_FILE, "max_length": self.lexicon.max_length,
            "arrays": {name: f"lexicon_{name}.npy" for name in ARRAYS}} | self.lexicon.settings()
        return {"type": "vocabulary", "token_unit": self.token_unit, "joiner": self.joiner, "lexicon": lexicon,
                "vocab_files": files}

    @staticmethod
    def files(description: dict) -> list[str]:
        """The files :meth:`save` writes beside ``description``."""
        lexicon = description.get("lexicon") or {}
        return list(description["vocab_files"]) + ([lexicon["file"]] if lexicon else []) + \
            list(lexicon.get("arrays", {}).values())

    def save(self, folder) -> dict:
        """Write the vocabularies (and lexicon) into ``folder``; returns :meth:`describe`."""
        write_json(Path(folder) / VOCAB_FILE, self.vocab.to_list())
        if self.bigram_vocab is not None:
            write_json(Path(folder) / BIGRAM_VOCAB_FILE, self.bigram_vocab.to_list())
        if self.lexicon is not None:
            write_json(Path(folder) / LEXICON_FILE, self.lexicon.words)
            for name, array in self.lexicon.arrays().items():  # the built matcher: loads without rebuilding
                np.save(Path(folder) / f"lexicon_{name}.npy", np.asarray(array), allow_pickle=False)
        return self.describe()

    @classmethod
    def load(cls, folder, description: dict) -> "TokenEncoder":
        """The encoder :meth:`save` wrote into ``folder`` with ``description``."""
        folder = Path(folder)
        vocabs = []
        for name, size in description["vocab_files"].items():
            tokens = read_json(folder / name, "a folder with the model's vocabularies")
            if size is not None and len(tokens) != size:
                raise ModelLoadError(f"{folder / name} has {len(tokens)} tokens but the model was saved with {size}")
            vocabs.append(Vocabulary(tokens))
        lexicon = None
        spec = description.get("lexicon")
        if spec:
            def read_words():
                return read_json(folder / spec["file"], "a folder with the model's lexicon")

            if spec.get("arrays"):  # memory-mapped: no JSON parse, no trie build (folders since 2026-12)
                try:
                    arrays = {name: np.load(folder / file, mmap_mode="r", allow_pickle=False)
                              for name, file in spec["arrays"].items()}
                except (OSError, ValueError) as exc:
                    raise ModelLoadError(f"cannot read the lexicon arrays in {folder}: {exc}") from None
                lexicon = Lexicon.from_arrays(arrays, spec, spec["max_length"], description["joiner"], read_words)
            else:  # the word count of these older folders is checked here, of the others when the words load
                lexicon = Lexicon(read_words(), spec["max_length"], joiner=description["joiner"])
                if spec.get("words") is not None and lexicon.word_count != spec["words"]:
                    raise ModelLoadError(f"{folder / spec['file']} has {lexicon.word_count} words but the model was "
                                         f"saved with {spec['words']}")
        return cls(vocabs[0], vocabs[1] if len(vocabs) > 1 else None, lexicon, description["token_unit"])
