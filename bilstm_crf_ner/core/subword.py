"""Input for any pretrained encoder with a Hugging Face ``tokenizer.json``, aligned to the
user's tokens (no TensorFlow).

The checkpoint's own tokenizer (byte-level BPE as in RoBERTa, SentencePiece Unigram as in
XLM-RoBERTa, ALBERT and DeBERTa-v3, WordPiece as in BERT, DistilBERT and ELECTRA) runs through
the ``tokenizers`` library, which applies the checkpoint's normalization. Each user token is
encoded on its own and cached, so a token's pieces never depend on its neighbours:

* words are encoded as a word that follows a space, the form Hugging Face uses for
  pre-split words (``is_split_into_words``; for byte-level BPE the ``Ġ`` / leading-space
  form, as with ``add_prefix_space=True``); the word's label sits on its first piece;
* characters (Chinese text) get one tag each even where the tokenizer would merge
  neighbours: a character that is a vocabulary entry is that one piece, else the pieces
  the tokenizer gives it alone (a lone SentencePiece ``▁`` in front is dropped);
* a token that normalizes to nothing gets the unknown piece, so offsets never shift.

The encoded sentence is ``[S, 2]`` int32 (see :mod:`bilstm_crf_ner.core.pieces`), with the
tokenizer's own special pieces around it (``[CLS] ... [SEP]``, ``<s> ... </s>``). Channel 0
holds **piece id + 1**, so that 0 means padding for every vocabulary (RoBERTa's ``<s>`` has
id 0); the Keras layer subtracts the 1.

>>> from tokenizers import Tokenizer, models, pre_tokenizers, processors
>>> tok = Tokenizer(models.WordPiece({"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "new": 4, "york": 5,
...                                   "##er": 6, "北": 7, "京": 8}, unk_token="[UNK]"))
>>> tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
>>> tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
>>> aligner = SubwordAligner(tok.to_str())
>>> ids = aligner.encode(["new", "yorker"], unit="word")
>>> (ids[:, 0] - 1).tolist(), ids[:2, 1].tolist()  # [CLS] new york ##er [SEP]; first pieces at 1 and 2
([2, 4, 5, 6, 3], [1, 2])
>>> aligner.piece_counts(["北", "京", "?"], unit="char")
[1, 1, 1]
"""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import ModelLoadError
from .pieces import PieceEncoder, aligned_ids

#: The file a saved model or an export keeps the tokenizer in.
TOKENIZER_FILE = "subword_tokenizer.json"
#: Pieces that stand only for the space before a word (SentencePiece, byte-level BPE).
_SPACE_MARKERS = ("▁", "Ġ")


def _force_prefix_space(node):
    """A copy of a ``tokenizer.json`` pre-tokenizer in which byte-level splitting adds the
    leading space to each word (Hugging Face's ``add_prefix_space=True`` for pre-split words)."""
    if isinstance(node, dict):
        node = {key: _force_prefix_space(value) for key, value in node.items()}
        if node.get("type") == "ByteLevel":
            node["add_prefix_space"] = True
        return node
    if isinstance(node, list):
        return [_force_prefix_space(value) for value in node]
    return node


def _unknown_id(spec: dict, tokenizer) -> int | None:
    model = spec.get("model") or {}
    if model.get("unk_id") is not None:  # Unigram
        return int(model["unk_id"])
    if model.get("unk_token"):  # WordPiece, BPE
        return tokenizer.token_to_id(model["unk_token"])
    return None


class SubwordAligner:
    """Encodes token lists with a ``tokenizer.json``; see the module docstring.

    Args:
        tokenizer_json: the content of the checkpoint's ``tokenizer.json``.
        max_pieces_per_token: a single token with more pieces keeps only its first ones (its
            label sits on the first piece, so no tag is lost).
    """

    def __init__(self, tokenizer_json: str, max_pieces_per_token: int = 16):
        from tokenizers import Tokenizer

        self.tokenizer_json = tokenizer_json
        try:
            spec = json.loads(tokenizer_json)
            self._tokenizer = Tokenizer.from_str(tokenizer_json)
            word_spec = dict(spec, pre_tokenizer=_force_prefix_space(spec.get("pre_tokenizer")))
            self._word_tokenizer = Tokenizer.from_str(json.dumps(word_spec))
        except Exception as exc:  # tokenizers raises plain Exceptions for malformed files
            raise ModelLoadError(f"cannot read the tokenizer: {exc}") from None
        for tokenizer in (self._tokenizer, self._word_tokenizer):
            tokenizer.no_padding()
            tokenizer.no_truncation()
        self.max_pieces_per_token = int(max_pieces_per_token)
        self.vocab_size = self._tokenizer.get_vocab_size(with_added_tokens=True)
        probe = self._tokenizer.encode("a", add_special_tokens=True)
        special = probe.special_tokens_mask
        lead = next((i for i, s in enumerate(special) if not s), len(special))
        trail = next((i for i, s in enumerate(reversed(special)) if not s), 0)
        self.prefix, self.suffix = list(probe.ids[:lead]), list(probe.ids[len(probe.ids) - trail:])
        if not self.prefix:
            raise ModelLoadError("the tokenizer adds no start token ([CLS] or <s>) to a sequence: its post_processor "
                                 "is missing, so it is not an encoder checkpoint's tokenizer")
        self.special_pieces = len(self.prefix) + len(self.suffix)
        self.unk = _unknown_id(spec, self._tokenizer)
        self._space_ids = {i for i in (self._tokenizer.token_to_id(m) for m in _SPACE_MARKERS) if i is not None}
        self._char_ids = lru_cache(maxsize=65536)(self._lookup_char)
        self._word_ids = lru_cache(maxsize=65536)(self._lookup_word)
        self._known: dict[str, list[str]] = {}

    def _fallback(self, token: str) -> tuple[int, ...]:
        if self.unk is not None:
            return (self.unk,)
        return tuple(self._tokenizer.encode("?", add_special_tokens=False).ids[:1])  # byte-level BPE has no unknown

    def _lookup_char(self, char: str) -> tuple[int, ...]:
        direct = self._tokenizer.token_to_id(char)
        if direct is not None:
            return (direct,)
        for form in dict.fromkeys((char, unicodedata.normalize("NFKC", char))):
            ids = self._tokenizer.encode(form, add_special_tokens=False).ids
            if len(ids) > 1 and ids[0] in self._space_ids:
                ids = ids[1:]
            if ids:
                return tuple(ids[: self.max_pieces_per_token])
        return self._fallback(char)

    def _lookup_word(self, word: str) -> tuple[int, ...]:
        ids = self._word_tokenizer.encode([word], is_pretokenized=True, add_special_tokens=False).ids
        return tuple(ids[: self.max_pieces_per_token]) or self._fallback(word)

    def pieces(self, tokens: Sequence[str], unit: str) -> list[tuple[int, ...]]:
        """The piece ids of each token (without the + 1 of :meth:`encode`)."""
        if unit == "char":
            return [self._char_ids(t) if len(t) == 1 else self._word_ids(t) for t in tokens]
        return [self._word_ids(t) for t in tokens]

    def piece_counts(self, tokens: Sequence[str], unit: str) -> list[int]:
        return [len(p) for p in self.pieces(tokens, unit)]

    def encode(self, tokens: Sequence[str], unit: str) -> np.ndarray:
        """``[S, 2]`` int32: special pieces around the tokens' pieces, ids + 1, and first-piece positions."""
        return aligned_ids(self.pieces(tokens, unit), self.prefix, self.suffix, id_offset=1)

    def known_tokens(self, unit: str) -> list[str]:
        """Tokens that are one piece each: single characters for ``"char"``, alphabetic words
        for ``"word"`` (inputs for export checks and timing; decoded once per unit)."""
        if unit not in self._known:
            texts = (self._tokenizer.decode([i], skip_special_tokens=True).strip() for i in range(self.vocab_size))
            if unit == "char":
                self._known[unit] = sorted({t for t in texts if len(t) == 1 and t.isalnum()})
            else:
                self._known[unit] = sorted({t for t in texts if len(t) > 1 and t.isalpha()})
        return self._known[unit]


class SubwordEncoder(PieceEncoder):
    """A :class:`~bilstm_crf_ner.core.pieces.PieceEncoder` over a ``tokenizer.json``; the
    Keras embedding (:class:`~bilstm_crf_ner.TransformerEmbedding`) and the exported runtime
    load the same one."""

    aligner: SubwordAligner

    def describe(self) -> dict:
        """The JSON description :meth:`load` rebuilds this encoder from (with :meth:`save`'s file)."""
        return {"type": "subword", "token_unit": self.unit, "joiner": self.joiner, "tokenizer_file": TOKENIZER_FILE,
                "vocab_size": self.aligner.vocab_size, "sequence_length": self.sequence_length,
                "window_overlap": self.window_overlap, "max_pieces_per_token": self.aligner.max_pieces_per_token}

    @staticmethod
    def files(description: dict) -> list[str]:
        """The files :meth:`save` writes beside ``description``."""
        return [description["tokenizer_file"]]

    def save(self, folder) -> dict:
        """Write the tokenizer into ``folder``; returns :meth:`describe`."""
        Path(folder, TOKENIZER_FILE).write_text(self.aligner.tokenizer_json, encoding="utf-8")
        return self.describe()

    @classmethod
    def load(cls, folder, description: dict) -> "SubwordEncoder":
        """The encoder :meth:`save` wrote into ``folder`` with ``description``."""
        path = Path(folder) / description["tokenizer_file"]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelLoadError(f"cannot read {path}: {exc}") from None
        aligner = SubwordAligner(text, description["max_pieces_per_token"])
        if aligner.vocab_size != description["vocab_size"]:
            raise ModelLoadError(f"{path} has {aligner.vocab_size} pieces but the model was saved with "
                                 f"{description['vocab_size']}")
        return cls(aligner, description["token_unit"], description["sequence_length"], description["window_overlap"])
