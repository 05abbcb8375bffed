"""Checkpoint parameters as numpy arrays under canonical Hugging Face names, and the loader
keras-hub's weight converters port them from.

Canonical names drop the model prefix that task checkpoints add (``bert.``, ``roberta.``,
``electra.`` ...) and use ``LayerNorm.weight`` / ``.bias`` for the old ``gamma`` / ``beta``, so
one name serves every head a checkpoint was saved with.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np

from ...core.errors import ModelLoadError

logger = logging.getLogger(__name__)

#: Prefixes of the base model inside Hugging Face task checkpoints.
MODEL_PREFIXES = ("bert.", "roberta.", "albert.", "distilbert.", "electra.", "deberta.")
#: Canonical names a tagger never needs (pretraining heads, position id buffers).
UNUSED_PREFIXES = ("cls.", "lm_head.", "predictions.", "discriminator_predictions.", "generator_", "pooler.",
                   "qa_outputs.", "classifier.", "mask_predictions.", "lm_predictions.", "vocab_",
                   "embeddings.position_ids")


def canonical_name(name: str) -> str:
    for prefix in MODEL_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name))


def load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from None


def read_safetensors(folder: Path) -> dict[str, np.ndarray]:
    """All parameters of a Hugging Face folder (``model.safetensors`` or its shards), canonically named."""
    from safetensors.numpy import load_file

    index = folder / "model.safetensors.index.json"
    if (folder / "model.safetensors").is_file():
        files = [folder / "model.safetensors"]
    elif index.is_file():
        files = [folder / name for name in sorted(set(load_json(index).get("weight_map", {}).values()))]
    else:
        others = [p.name for p in folder.iterdir() if p.suffix in (".bin", ".h5", ".msgpack")]
        hint = f" (it has {', '.join(others)}; convert them to safetensors)" if others else ""
        raise ModelLoadError(f"{folder} has no model.safetensors{hint}")
    tensors = {}
    for file in files:
        try:
            loaded = load_file(str(file))
        except Exception as exc:  # safetensors raises its own error types
            raise ModelLoadError(f"cannot read {file}: {exc}") from None
        tensors.update({canonical_name(k): np.asarray(v, dtype=np.float32) for k, v in loaded.items()})
    return tensors


class ArrayLoader:
    """The two methods keras-hub's Hugging Face converters call on their safetensors loader,
    over a dict of canonically named arrays, with errors that name the checkpoint."""

    def __init__(self, tensors: dict[str, np.ndarray], source):
        self.tensors, self.source, self.used = tensors, source, set()

    def get_tensor(self, key):
        key = canonical_name(key)
        if key not in self.tensors:
            raise KeyError(key)
        self.used.add(key)
        return self.tensors[key]

    def port_weight(self, keras_variable, hf_weight_key, hook_fn=None):
        key = canonical_name(hf_weight_key)
        if key not in self.tensors:
            if key.startswith("pooler."):  # some checkpoints ship without the pooler, which tagging never uses
                return
            raise ModelLoadError(f"{self.source} is not a complete checkpoint: it has no {hf_weight_key}")
        value = self.get_tensor(key)
        if hook_fn is not None:
            value = hook_fn(value, list(keras_variable.shape))
        if tuple(value.shape) != tuple(keras_variable.shape):
            raise ModelLoadError(f"{self.source}: {hf_weight_key} has shape {tuple(value.shape)} but the config "
                                 f"implies {tuple(keras_variable.shape)}")
        keras_variable.assign(value)

    def warn_unused(self) -> None:
        unused = sorted(k for k in self.tensors if k not in self.used and not k.startswith(UNUSED_PREFIXES))
        if unused:
            logger.warning("%s: %d parameters were not used, e.g. %s", self.source, len(unused), unused[:3])
