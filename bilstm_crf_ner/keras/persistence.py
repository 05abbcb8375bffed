"""Saving and loading a :class:`~bilstm_crf_ner.BLSTMCRFModel` folder.

Folder layout::

    models/msra/
      bilstm_crf_ner.json    format version, model and embedding config, tags, schemes, and the
                             input side's description ("tokenizer", as in an export's metadata)
      vocab.json ...         the input side's files (core.encoders: the same files an export has)
      network.weights.h5     Keras weights
      optimizer.npz          optimizer state (and encoder_optimizer.npz), to continue training

The folder is written beside its destination and swapped in only when complete
(:func:`~bilstm_crf_ner.core.fileio.atomic_folder`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .. import __version__
from ..core.encoders import load_encoder
from ..core.errors import ModelLoadError, ModelSaveError
from ..core.fileio import atomic_folder, read_json, write_json
from .embeddings import embedding_from_config

logger = logging.getLogger(__name__)

#: Version 2 keeps the input side's description ("tokenizer"); version 1 folders are still read.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
CONFIG_FILE = "bilstm_crf_ner.json"
WEIGHTS_FILE = "network.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
ENCODER_OPTIMIZER_FILE = "encoder_optimizer.npz"


def save_model(model, path, overwrite: bool = True, include_optimizer: bool = True) -> Path:
    """Write ``model`` to the folder ``path`` (see the module docstring). An existing folder that
    is not a saved model is never replaced."""
    path = Path(path)
    if path.exists():
        if not path.is_dir() or (any(path.iterdir()) and not (path / CONFIG_FILE).is_file()):
            raise ModelSaveError(f"{path} exists and is not a saved model; refusing to replace it")
        if not overwrite:
            raise ModelSaveError(f"{path} already exists (pass overwrite=True to replace it)")
    with atomic_folder(path) as tmp:
        tokenizer = model.embedding.encoder.save(tmp)
        write_json(tmp / CONFIG_FILE, {
            "format_version": FORMAT_VERSION, "library_version": __version__,
            "model": model.get_config(), "embedding": model.embedding.serialize(), "tokenizer": tokenizer,
            "tags": model.tags, "data_scheme": model.data_scheme,
        }, indent=1)
        model.network.save_weights(tmp / WEIGHTS_FILE)
        if include_optimizer:
            for name, optimizer in ((OPTIMIZER_FILE, model.network.optimizer),
                                    (ENCODER_OPTIMIZER_FILE, model.network.encoder_optimizer)):
                if optimizer is not None and optimizer.built:
                    np.savez(tmp / name, *[np.asarray(v) for v in optimizer.variables])
    return path


def load_model(cls, path):
    """The ``cls`` (:class:`~bilstm_crf_ner.BLSTMCRFModel`) saved in the folder ``path``."""
    path = Path(path)
    config_path = path / CONFIG_FILE
    config = read_json(config_path, "a saved bilstm_crf_ner model")
    version = config.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ModelLoadError(f"{path} has format version {version!r}; this library ({__version__}) reads "
                             f"versions {READABLE_VERSIONS}")
    try:
        embedding = embedding_from_config(config["embedding"])
        embedding.set_encoder(load_encoder(path, config.get("tokenizer") or _version1_tokenizer(config["embedding"])))
        model = cls(embedding, **config["model"])
        model.tags, model.data_scheme = config["tags"], config["data_scheme"]
    except (KeyError, TypeError) as exc:
        raise ModelLoadError(f"{config_path} is incomplete or invalid: {exc}") from None
    if not (path / WEIGHTS_FILE).is_file():
        raise ModelLoadError(f"{path} has no {WEIGHTS_FILE}")
    network = model._make_network()
    try:
        network.load_weights(path / WEIGHTS_FILE)
    except (ValueError, OSError) as exc:
        raise ModelLoadError(f"{path / WEIGHTS_FILE} does not match the model described by {CONFIG_FILE}: {exc}") from None
    model._set_network(model._compiled(network))
    if (path / OPTIMIZER_FILE).is_file():
        if not model.network.optimizer.built:
            model.network.optimizer.build(model.network.trainable_variables)
        _restore_optimizer(model.network.optimizer, path / OPTIMIZER_FILE)
    if (path / ENCODER_OPTIMIZER_FILE).is_file() and model.network.encoder_optimizer is not None:
        _restore_optimizer(model.network.encoder_optimizer, path / ENCODER_OPTIMIZER_FILE)
    return model


def _version1_tokenizer(embedding: dict) -> dict:
    """The input side's description of a version 1 folder, which kept only the embedding's
    config beside the same files (sizes are then not checked)."""
    config = embedding["config"]
    if embedding["class_name"] == "BERTEmbedding":
        return {"type": "wordpiece", "token_unit": config["token_unit"], "vocab_file": "bert_vocab.txt",
                "vocab_size": None, "lowercase": config["architecture"]["lowercase"],
                "sequence_length": config["sequence_length"], "window_overlap": config["window_overlap"],
                "max_pieces_per_token": min(16, config["sequence_length"] - 2)}
    unit = config["token_unit"]
    files = {"vocab.json": None} | ({"bigram_vocab.json": None} if config.get("bigram_dim") else {})
    lexicon = {"file": "lexicon.json", "words": None, "max_length": config["lexicon_max_length"]} if config.get("lexicon") else None
    return {"type": "vocabulary", "token_unit": unit, "joiner": "" if unit == "char" else " ", "lexicon": lexicon,
            "vocab_files": files}


def _restore_optimizer(optimizer, file):
    with np.load(file) as saved:
        values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    if [tuple(v.shape) for v in optimizer.variables] != [v.shape for v in values]:
        logger.warning("optimizer state in %s does not match the network; training restarts it", file)
        return
    for variable, value in zip(optimizer.variables, values):
        variable.assign(value)
