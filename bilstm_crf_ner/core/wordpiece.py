"""WordPiece input for BERT, aligned to the user's tokens (no TensorFlow).

Each user token becomes one or more WordPiece ids; its label lives on its first piece and the
others are ignored by the tagger. The encoded sentence is ``[CLS] pieces... [SEP]`` as an
int32 array ``[S, 2]``: channel 0 holds the piece ids (0 = padding), channel 1 holds, in its
first ``len(tokens)`` rows, the position of each token's first piece (never 0, since
``[CLS]`` sits there). The network gathers the encoder's states at those positions, so the
tagger sees exactly one vector per user token.

Character tokens (Chinese) always get exactly one piece: the character itself if the
vocabulary has it, else its lower-case, accent-stripped or NFKC (full-width -> half-width)
form, else ``[UNK]``. Word tokens go through BERT's basic tokenizer and greedy WordPiece
(Hugging Face ``tokenizers``); a word that normalizes to nothing (e.g. a zero-width space)
becomes ``[UNK]``, so offsets never shift.

>>> aligner = WordPieceAligner(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "new", "york", "##er", "北", "京", "a"])
>>> aligner.encode(["北", "京", "Ａ"], unit="char").tolist()
[[2, 1], [7, 2], [8, 3], [9, 0], [3, 0]]
>>> aligner.encode(["New", "Yorker"], unit="word")[:, 0].tolist()
[2, 4, 5, 6, 3]
>>> aligner.piece_counts(["New", "Yorker"], unit="word")
[1, 2]
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import ModelLoadError
from .pieces import PieceEncoder, aligned_ids

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")
#: The vocabulary file a saved model or an export keeps beside its description.
VOCAB_FILE = "bert_vocab.txt"


def read_vocab(path) -> list[str]:
    """The tokens of a BERT ``vocab.txt`` (one per line, id = line number)."""
    try:
        with open(path, encoding="utf-8") as handle:
            tokens = [line.rstrip("\r\n") for line in handle]
    except OSError as exc:
        raise ModelLoadError(f"cannot read the BERT vocabulary {path}: {exc}") from None
    while tokens and tokens[-1] == "":
        tokens.pop()
    return tokens


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


class WordPieceAligner:
    """Encodes token lists for a BERT vocabulary; see the module docstring.

    Args:
        vocab: the vocabulary tokens in id order (must contain ``[PAD]`` at id 0, ``[UNK]``,
            ``[CLS]`` and ``[SEP]``).
        lowercase: lower-case (and strip accents from) words, as uncased and Chinese BERTs expect.
        max_pieces_per_token: a single token with more pieces keeps only its first ones (its
            label sits on the first piece, so no tag is lost).
    """

    def __init__(self, vocab: Sequence[str], lowercase: bool = True, max_pieces_per_token: int = 16):
        self.vocab = list(vocab)
        self.index = {token: i for i, token in enumerate(self.vocab)}
        missing = [t for t in SPECIAL_TOKENS if t not in self.index]
        if missing:
            raise ModelLoadError(f"the BERT vocabulary lacks {', '.join(missing)}")
        if self.index["[PAD]"] != 0:
            raise ModelLoadError("the BERT vocabulary must have [PAD] at id 0")
        self.lowercase = bool(lowercase)
        self.max_pieces_per_token = int(max_pieces_per_token)
        self.unk, self.cls, self.sep = self.index["[UNK]"], self.index["[CLS]"], self.index["[SEP]"]
        self.special_pieces = 2  # [CLS] and [SEP]
        self._char_id = lru_cache(maxsize=65536)(self._lookup_char)
        self._word_ids = lru_cache(maxsize=65536)(self._lookup_word)
        self._wordpiece = None
        self._known: dict[str, list[str]] = {}

    def _lookup_char(self, char: str) -> int:
        candidates = [char]
        if self.lowercase:
            candidates += [char.lower(), _strip_accents(char.lower())]
        nfkc = unicodedata.normalize("NFKC", char)
        candidates += [nfkc, nfkc.lower(), _strip_accents(nfkc.lower())]
        for candidate in candidates:
            if candidate in self.index:
                return self.index[candidate]
        pieces = self._lookup_word(char)  # e.g. a ligature that WordPiece splits: keep its first piece
        return pieces[0]

    def _tokenizer(self):
        if self._wordpiece is None:
            from tokenizers import BertWordPieceTokenizer

            self._wordpiece = BertWordPieceTokenizer(self.index, lowercase=self.lowercase, strip_accents=self.lowercase,
                                                     clean_text=True, handle_chinese_chars=True)
        return self._wordpiece

    def _lookup_word(self, word: str) -> tuple[int, ...]:
        ids = self._tokenizer().encode([word], is_pretokenized=True, add_special_tokens=False).ids
        return tuple(ids[: self.max_pieces_per_token]) or (self.unk,)

    def pieces(self, tokens: Sequence[str], unit: str) -> list[tuple[int, ...]]:
        """The piece ids of each token."""
        if unit == "char":
            return [(self._char_id(t),) if len(t) == 1 else self._word_ids(t) for t in tokens]
        return [self._word_ids(t) for t in tokens]

    def piece_counts(self, tokens: Sequence[str], unit: str) -> list[int]:
        if unit == "char":  # a character is always one piece: no lookup needed
            return [1 if len(t) == 1 else len(self._word_ids(t)) for t in tokens]
        return [len(p) for p in self.pieces(tokens, unit)]

    def encode(self, tokens: Sequence[str], unit: str) -> np.ndarray:
        """``[S, 2]`` int32: ``[CLS] pieces [SEP]`` ids and first-piece positions (module docstring)."""
        return aligned_ids(self.pieces(tokens, unit), [self.cls], [self.sep])

    def known_tokens(self, unit: str) -> list[str]:
        """Single characters (``"char"``: whitespace entries left out, as text never has them as
        tokens) or whole alphabetic words (``"word"``: no ``##`` continuations, no ``[SPECIAL]``
        tokens) of the vocabulary (computed once per unit)."""
        if unit not in self._known:
            self._known[unit] = [t for t in self.vocab
                                 if (len(t) == 1 and not t.isspace() if unit == "char" else t.isalpha())]
        return self._known[unit]


class WordPieceEncoder(PieceEncoder):
    """A :class:`~bilstm_crf_ner.core.pieces.PieceEncoder` for a BERT vocabulary.

    Shared by :class:`~bilstm_crf_ner.BERTEmbedding` and the exported runtime, so both cut
    texts and encode them identically.
    """

    aligner: WordPieceAligner

    @staticmethod
    def files(description: dict) -> list[str]:
        """The files :meth:`save` writes beside ``description``."""
        return [description["vocab_file"]]

    def describe(self) -> dict:
        """The JSON description :meth:`load` rebuilds this encoder from (with :meth:`save`'s file)."""
        return {"type": "wordpiece", "token_unit": self.unit, "joiner": self.joiner, "vocab_file": VOCAB_FILE,
                "vocab_size": len(self.aligner.vocab), "lowercase": self.aligner.lowercase,
                "sequence_length": self.sequence_length, "window_overlap": self.window_overlap,
                "max_pieces_per_token": self.aligner.max_pieces_per_token}

    def save(self, folder) -> dict:
        """Write the vocabulary into ``folder``; returns :meth:`describe`."""
        Path(folder, VOCAB_FILE).write_text("".join(t + "\n" for t in self.aligner.vocab), encoding="utf-8")
        return self.describe()

    @classmethod
    def load(cls, folder, description: dict) -> "WordPieceEncoder":
        """The encoder :meth:`save` wrote into ``folder`` with ``description``."""
        path = Path(folder) / description["vocab_file"]
        if not path.is_file():
            raise ModelLoadError(f"{folder} has no {description['vocab_file']}")
        vocab = read_vocab(path)
        if description["vocab_size"] is not None and len(vocab) != description["vocab_size"]:
            raise ModelLoadError(f"{path} has {len(vocab)} tokens but the model was saved with {description['vocab_size']}")
        aligner = WordPieceAligner(vocab, description["lowercase"], description["max_pieces_per_token"])
        return cls(aligner, description["token_unit"], description["sequence_length"], description["window_overlap"])
