"""The encoder families read from Hugging Face checkpoints, by their ``config.json``
``model_type``: the keras-hub backbone of each and how its arguments follow from the config.

>>> family = FAMILIES["roberta"]
>>> family.backbone, family.backbone_config({"vocab_size": 50, "num_hidden_layers": 2, "num_attention_heads": 2,
...     "hidden_size": 8, "intermediate_size": 16, "max_position_embeddings": 66}, "config.json")["max_sequence_length"]
('RobertaBackbone', 64)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...core.errors import ModelLoadError


def _require(config: dict, source, *keys):
    missing = [key for key in keys if key not in config]
    if missing:
        raise ModelLoadError(f"{source} lacks {', '.join(missing)}")
    return [config[key] for key in keys]


def _bert_like(config: dict, source, position_offset: int = 0) -> dict:
    vocab, layers, heads, hidden, intermediate, positions = _require(
        config, source, "vocab_size", "num_hidden_layers", "num_attention_heads", "hidden_size", "intermediate_size",
        "max_position_embeddings")
    if hidden % heads:
        raise ModelLoadError(f"{source}: hidden_size is not a multiple of num_attention_heads")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ModelLoadError(f"{source}: position_embedding_type {config['position_embedding_type']!r} is not supported")
    return {"vocabulary_size": vocab, "num_layers": layers, "num_heads": heads, "hidden_dim": hidden,
            "intermediate_dim": intermediate, "max_sequence_length": positions - position_offset}


def _bert(config, source):
    return _bert_like(config, source) | {"num_segments": int(config.get("type_vocab_size", 2))}


def _roberta(config, source):
    return _bert_like(config, source, position_offset=2)  # rows 0-1 of RoBERTa's position table are never used


def _albert(config, source):
    embedding, groups, inner = _require(config, source, "embedding_size", "num_hidden_groups", "inner_group_num")
    out = _bert(config, source) | {"embedding_dim": embedding, "num_groups": groups, "num_inner_repetitions": inner}
    if out["num_layers"] % groups:
        raise ModelLoadError(f"{source}: num_hidden_layers is not a multiple of num_hidden_groups")
    return out


def _distilbert(config, source):
    vocab, layers, heads, hidden, intermediate, positions = _require(
        config, source, "vocab_size", "n_layers", "n_heads", "dim", "hidden_dim", "max_position_embeddings")
    if config.get("sinusoidal_pos_embds"):
        raise ModelLoadError(f"{source}: sinusoidal position embeddings are not supported")
    return {"vocabulary_size": vocab, "num_layers": layers, "num_heads": heads, "hidden_dim": hidden,
            "intermediate_dim": intermediate, "max_sequence_length": positions}


def _electra(config, source):
    out = _bert(config, source)
    out["vocab_size"] = out.pop("vocabulary_size")  # ElectraBackbone's spelling
    out["embedding_dim"] = int(config.get("embedding_size", out["hidden_dim"]))
    return out


def _deberta_v3(config, source):
    """DeBERTa-v3 (``model_type`` "deberta-v2"): relative attention with log buckets, no absolute positions."""
    v3 = {"relative_attention": True, "position_biased_input": False, "share_att_key": True, "norm_rel_ebd": "layer_norm"}
    wrong = {key: config.get(key) for key, value in v3.items() if config.get(key) != value}
    if wrong or sorted(config.get("pos_att_type") or []) != ["c2p", "p2c"] or int(config.get("position_buckets", -1)) <= 0:
        raise ModelLoadError(f"{source} is a DeBERTa-v2 checkpoint without the DeBERTa-v3 attention this library "
                             f"reads ({wrong or 'pos_att_type / position_buckets'} differ); use a DeBERTa-v3 checkpoint")
    if config.get("embedding_size", config["hidden_size"]) != config["hidden_size"] or config.get("type_vocab_size", 0):
        raise ModelLoadError(f"{source}: embedding_size / type_vocab_size other than DeBERTa-v3's are not supported")
    out = _bert_like(config, source)
    relative = int(config.get("max_relative_positions", -1))
    out["max_sequence_length"] = relative if relative > 0 else out["max_sequence_length"]
    out["bucket_size"] = int(config["position_buckets"])
    return out


@dataclass(frozen=True)
class Family:
    """One supported ``model_type``."""

    model_type: str
    #: The keras-hub backbone class (``keras_hub.models.<backbone>``).
    backbone: str
    #: keras-hub backbone arguments from ``config.json`` (``source`` names the file in errors).
    backbone_config: Callable[[dict, object], dict]
    #: Whether the backbone takes ``segment_ids`` (all zero for one sentence).
    segments: bool
    #: Whether all layers share one set of weights (ALBERT): then only all or nothing trains.
    shared_layers: bool = False
    #: The config key of the activation.
    activation_key: str = "hidden_act"
    #: ``layer_norm_eps`` when the config has none.
    default_layer_norm_eps: float = 1e-12

    def positions(self, backbone_config: dict) -> int:
        """The longest piece sequence the backbone takes."""
        return int(backbone_config["max_sequence_length"])


FAMILIES = {family.model_type: family for family in (
    Family("bert", "BertBackbone", _bert, segments=True),
    Family("roberta", "RobertaBackbone", _roberta, segments=False, default_layer_norm_eps=1e-5),
    Family("xlm-roberta", "XLMRobertaBackbone", _roberta, segments=False, default_layer_norm_eps=1e-5),
    Family("albert", "AlbertBackbone", _albert, segments=True, shared_layers=True),
    Family("distilbert", "DistilBertBackbone", _distilbert, segments=False, activation_key="activation"),
    Family("electra", "ElectraBackbone", _electra, segments=True),
    Family("deberta-v2", "DebertaV3Backbone", _deberta_v3, segments=False, default_layer_norm_eps=1e-7),
)}


def family_of(config: dict, source) -> Family:
    """The :class:`Family` of a ``config.json``; unsupported types are refused with the list."""
    model_type = config.get("model_type")
    if model_type not in FAMILIES:
        raise ModelLoadError(f"{source} describes a {model_type!r} model; supported model_type values are "
                             f"{', '.join(sorted(FAMILIES))} (DeBERTa-v3 checkpoints say 'deberta-v2')")
    return FAMILIES[model_type]
