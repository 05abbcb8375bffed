"""Reading a Hugging Face encoder checkpoint folder of any supported family.

A folder holds ``config.json`` (its ``model_type`` names the family:
:mod:`~bilstm_crf_ner.keras.transformers.families`), ``model.safetensors`` (or shards) and
``tokenizer.json``. BERT folders that have only ``vocab.txt`` get the equivalent WordPiece
``tokenizer.json`` built from it. Folders with only a SentencePiece model (``spm.model``,
``sentencepiece.bpe.model``, ``spiece.model``) are refused with the one-line conversion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...core.errors import ModelLoadError
from .families import Family, family_of
from .numerics import ACTIVATIONS
from .weights import ArrayLoader, load_json, read_safetensors

logger = logging.getLogger(__name__)

CONFIG, TOKENIZER = "config.json", "tokenizer.json"
_SENTENCEPIECE_FILES = ("spm.model", "sentencepiece.bpe.model", "spiece.model")


@dataclass
class TransformerCheckpoint:
    """A checkpoint folder: family, architecture and tokenizer (weights are read lazily)."""

    folder: Path
    family: Family
    backbone_config: dict
    hidden_act: str
    layer_norm_eps: float
    pad_token_id: int
    tokenizer_json: str = field(repr=False)

    @property
    def architecture(self) -> dict:
        """What rebuilds the network without the folder (kept in a saved model's config)."""
        return {"model_type": self.family.model_type, "backbone": self.backbone_config, "hidden_act": self.hidden_act,
                "layer_norm_eps": self.layer_norm_eps, "pad_token_id": self.pad_token_id}

    def read_weights(self) -> dict[str, np.ndarray]:
        return read_safetensors(self.folder)


def _tokenizer_json(folder: Path, family: Family) -> str:
    if (folder / TOKENIZER).is_file():
        return (folder / TOKENIZER).read_text(encoding="utf-8")
    if family.model_type == "bert" and (folder / "vocab.txt").is_file():
        from tokenizers import BertWordPieceTokenizer

        settings = load_json(folder / "tokenizer_config.json") if (folder / "tokenizer_config.json").is_file() else {}
        lowercase = bool(settings.get("do_lower_case", True))
        return BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=lowercase, strip_accents=lowercase).to_str()
    spm = [name for name in _SENTENCEPIECE_FILES if (folder / name).is_file()]
    hint = (f"; it has {spm[0]}: write tokenizer.json once with transformers, "
            f"`AutoTokenizer.from_pretrained('{folder}').save_pretrained('{folder}')`") if spm else ""
    raise ModelLoadError(f"{folder} has no {TOKENIZER}, which is needed to tokenize text{hint}")


def read_checkpoint(folder) -> TransformerCheckpoint:
    """Inspect a checkpoint folder (config and tokenizer; weights are read later)."""
    folder = Path(folder)
    if not (folder / CONFIG).is_file():
        raise ModelLoadError(f"{folder} is not a Hugging Face checkpoint: it has no {CONFIG}")
    config = load_json(folder / CONFIG)
    source = folder / CONFIG
    family = family_of(config, source)
    backbone = family.backbone_config(config, source)
    hidden_act = config.get(family.activation_key, "gelu")
    if hidden_act not in ACTIVATIONS:
        raise ModelLoadError(f"{source}: activation {hidden_act!r} is not supported ({', '.join(ACTIVATIONS)})")
    tokenizer_json = _tokenizer_json(folder, family)
    eps = float(config.get("layer_norm_eps", family.default_layer_norm_eps))
    pad = config.get("pad_token_id")
    return TransformerCheckpoint(folder, family, backbone, hidden_act, eps, int(0 if pad is None else pad), tokenizer_json)


def port_weights(backbone, checkpoint: TransformerCheckpoint) -> None:
    """Copy the checkpoint's parameters into the keras-hub backbone of its family."""
    from ..compat import convert_transformer_weights

    loader = ArrayLoader(checkpoint.read_weights(), checkpoint.folder)
    convert_transformer_weights(checkpoint.family.model_type, backbone, loader)
    loader.warn_unused()
