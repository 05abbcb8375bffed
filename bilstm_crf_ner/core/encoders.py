"""Sentence encoders saved and loaded: one writer and one reader for a model's input side.

A saved model folder and an exported folder keep the same files for the input side (the
vocabularies, lexicon or WordPiece vocabulary) and the same JSON description of it (the
``"tokenizer"`` entry of their metadata), written by the encoder's ``save(folder)`` and read
back here.

>>> import tempfile
>>> from bilstm_crf_ner.core.features import TokenEncoder
>>> from bilstm_crf_ner.core.vocab import Vocabulary
>>> folder = tempfile.mkdtemp()
>>> description = TokenEncoder(Vocabulary.build([list("北京")])).save(folder)
>>> load_encoder(folder, description).encode(list("北京")).tolist()
[3, 2]
"""

from __future__ import annotations

from .errors import ModelLoadError
from .features import TokenEncoder
from .subword import SubwordEncoder
from .wordpiece import WordPieceEncoder

#: Encoder classes by the ``"type"`` of their description.
ENCODER_TYPES = {"vocabulary": TokenEncoder, "wordpiece": WordPieceEncoder, "subword": SubwordEncoder}


def _with_encoder_class(folder, description: dict, action):
    """``action(cls)`` for the encoder class of ``description``, with its errors as ``ModelLoadError``."""
    kind = description.get("type", "vocabulary")  # exports of version 1 had no type for vocabularies
    if kind not in ENCODER_TYPES:
        raise ModelLoadError(f"{folder}: unknown tokenizer type {kind!r} (this library reads {sorted(ENCODER_TYPES)})")
    try:
        return action(ENCODER_TYPES[kind])
    except KeyError as exc:
        raise ModelLoadError(f"{folder}: the tokenizer description lacks {exc.args[0]!r}") from None


def encoder_files(folder, description: dict) -> list[str]:
    """The files (relative to ``folder``) that the encoder of ``description`` is loaded from."""
    return _with_encoder_class(folder, description, lambda cls: cls.files(description))


def load_encoder(folder, description: dict):
    """The encoder whose ``save(folder)`` returned ``description``."""
    return _with_encoder_class(folder, description, lambda cls: cls.load(folder, description))
