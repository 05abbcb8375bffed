"""Reading BERT checkpoints: Hugging Face folders and Google's original TensorFlow checkpoints.

Both formats are read into one canonical form, the Hugging Face parameter names
(``encoder.layer.0.attention.self.query.weight``, ``[out, in]`` matrices) as numpy arrays, and
ported into keras-hub's ``BertBackbone`` by keras-hub's own Hugging Face converter. So the only
format-specific code is the naming of each format.

Folder formats:

* Hugging Face: ``config.json`` (``model_type`` "bert"), ``model.safetensors`` (or sharded
  ``model.safetensors.index.json``), ``vocab.txt``; ``tokenizer_config.json`` or
  ``tokenizer.json`` say whether text is lower-cased.
* Google: ``bert_config.json``, ``bert_model.ckpt.index`` / ``.data-*`` (any ``*.ckpt*.index``),
  ``vocab.txt`` (Google's and most Chinese releases, e.g. ``chinese_L-12_H-768_A-12``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...core.errors import ModelLoadError
from ...core.wordpiece import read_vocab
from ..transformers.weights import ArrayLoader, load_json, read_safetensors

logger = logging.getLogger(__name__)

HF_CONFIG, GOOGLE_CONFIG, VOCAB = "config.json", "bert_config.json", "vocab.txt"
SUPPORTED_ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast")
_REQUIRED = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
             "max_position_embeddings")


@dataclass
class BertCheckpoint:
    """A BERT checkpoint folder: its architecture, vocabulary and tokenizer settings (weights are read lazily)."""

    folder: Path
    format: str  # "huggingface" or "google"
    config: dict  # keras-hub BertBackbone arguments
    hidden_act: str
    vocab: list[str] = field(repr=False)
    lowercase: bool = True
    layer_norm_eps: float = 1e-12

    def read_weights(self) -> dict[str, np.ndarray]:
        """All parameters under canonical Hugging Face names."""
        return read_safetensors(self.folder) if self.format == "huggingface" else _read_google_weights(self.folder)


def backbone_config(bert_config: dict, source) -> dict:
    """keras-hub ``BertBackbone`` arguments from a BERT ``config.json`` / ``bert_config.json``."""
    missing = [key for key in _REQUIRED if key not in bert_config]
    if missing:
        raise ModelLoadError(f"{source} is not a BERT config: it lacks {', '.join(missing)}")
    if bert_config.get("position_embedding_type", "absolute") != "absolute":
        raise ModelLoadError(f"{source}: position_embedding_type {bert_config['position_embedding_type']!r} is not supported")
    if bert_config["hidden_size"] % bert_config["num_attention_heads"]:
        raise ModelLoadError(f"{source}: hidden_size is not a multiple of num_attention_heads")
    return {
        "vocabulary_size": int(bert_config["vocab_size"]),
        "num_layers": int(bert_config["num_hidden_layers"]),
        "num_heads": int(bert_config["num_attention_heads"]),
        "hidden_dim": int(bert_config["hidden_size"]),
        "intermediate_dim": int(bert_config["intermediate_size"]),
        "max_sequence_length": int(bert_config["max_position_embeddings"]),
        "num_segments": int(bert_config.get("type_vocab_size", 2)),
    }


def _hf_lowercase(folder: Path, default: bool) -> bool:
    if (folder / "tokenizer_config.json").is_file():
        value = load_json(folder / "tokenizer_config.json").get("do_lower_case")
        if value is not None:
            return bool(value)
    if (folder / "tokenizer.json").is_file():
        normalizer = load_json(folder / "tokenizer.json").get("normalizer") or {}
        if "lowercase" in normalizer:
            return bool(normalizer["lowercase"])
    return default


def read_checkpoint(folder) -> BertCheckpoint:
    """Inspect a checkpoint folder (config and vocabulary; weights are read later)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"BERT checkpoint folder {folder} does not exist")
    if (folder / HF_CONFIG).is_file():
        fmt, raw = "huggingface", load_json(folder / HF_CONFIG)
        model_type = raw.get("model_type", "bert")
        if model_type != "bert":
            raise ModelLoadError(f"{folder / HF_CONFIG} describes a {model_type!r} model, not BERT")
    elif (folder / GOOGLE_CONFIG).is_file():
        fmt, raw = "google", load_json(folder / GOOGLE_CONFIG)
    else:
        raise ModelLoadError(f"{folder} is not a BERT checkpoint: it has neither {HF_CONFIG} (Hugging Face) "
                             f"nor {GOOGLE_CONFIG} (Google)")
    config = backbone_config(raw, folder / (HF_CONFIG if fmt == "huggingface" else GOOGLE_CONFIG))
    hidden_act = raw.get("hidden_act", "gelu")
    if hidden_act not in SUPPORTED_ACTIVATIONS:
        raise ModelLoadError(f"{folder}: hidden_act {hidden_act!r} is not supported ({', '.join(SUPPORTED_ACTIVATIONS)})")
    if fmt == "google" and hidden_act == "gelu":
        hidden_act = "gelu_new"  # Google's BERT code computes "gelu" with the tanh approximation
    if not (folder / VOCAB).is_file():
        raise ModelLoadError(f"{folder} has no {VOCAB}: the WordPiece vocabulary is needed to tokenize text")
    vocab = read_vocab(folder / VOCAB)
    if len(vocab) > config["vocabulary_size"]:
        raise ModelLoadError(f"{folder / VOCAB} has {len(vocab)} tokens but the model's embedding matrix has "
                             f"{config['vocabulary_size']} rows: vocabulary and weights do not belong together")
    cased_name = "cased" in folder.name.lower() and "uncased" not in folder.name.lower()
    lowercase = _hf_lowercase(folder, not cased_name) if fmt == "huggingface" else not cased_name
    return BertCheckpoint(folder, fmt, config, hidden_act, vocab, lowercase, float(raw.get("layer_norm_eps", 1e-12)))


# ---------------------------------------------------------------------------------- weights
def checkpoint_prefix(folder: Path) -> str:
    """The prefix of the TensorFlow checkpoint in ``folder`` (``.../bert_model.ckpt``)."""
    indexes = sorted(folder.glob("*.index"))
    if not indexes:
        raise ModelLoadError(f"{folder} has no TensorFlow checkpoint (bert_model.ckpt.index and .data files)")
    preferred = [p for p in indexes if p.name.startswith("bert_model.ckpt")]
    return str((preferred or indexes)[0].with_suffix(""))


def google_to_hf_name(name: str) -> str | None:
    """``bert/encoder/layer_0/attention/self/query/kernel`` -> ``encoder.layer.0.attention.self.query.weight``."""
    if not name.startswith("bert/"):
        return None
    parts = re.sub(r"layer_(\d+)", r"layer.\1", name[len("bert/"):]).split("/")
    leaf = parts[-1]
    if parts[0] == "embeddings" and leaf.endswith("_embeddings"):
        return ".".join(parts) + ".weight"
    parts[-1] = {"kernel": "weight", "gamma": "weight", "beta": "bias"}.get(leaf, leaf)
    return ".".join(parts)


def _read_google_weights(folder: Path) -> dict[str, np.ndarray]:
    import tensorflow as tf

    prefix = checkpoint_prefix(folder)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as exc:  # TensorFlow raises several error types for corrupt checkpoints
        raise ModelLoadError(f"cannot read the TensorFlow checkpoint {prefix}: {exc}") from None
    tensors = {}
    for name in reader.get_variable_to_shape_map():
        canonical = google_to_hf_name(name)
        if canonical is None:
            continue
        value = np.asarray(reader.get_tensor(name), dtype=np.float32)
        tensors[canonical] = value.T if name.endswith("/kernel") else value  # TF [in, out] -> HF [out, in]
    if not tensors:
        raise ModelLoadError(f"{prefix} is not a BERT checkpoint: it has no variables under bert/")
    return tensors


def port_weights(backbone, checkpoint: BertCheckpoint) -> None:
    """Copy the checkpoint's parameters into a keras-hub ``BertBackbone`` of the same architecture."""
    from ..compat import convert_bert_weights

    loader = ArrayLoader(checkpoint.read_weights(), checkpoint.folder)
    convert_bert_weights(backbone, loader)
    loader.warn_unused()
