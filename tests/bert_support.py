"""Test helpers: tiny BERT checkpoints written in both formats, and a numpy BERT forward pass.

The numpy forward pass is an independent reference (written from the BERT paper's equations,
sharing no code with keras-hub) against which the Keras encoder's hidden states are checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from scipy.special import erf

#: The bert-base-chinese vocabulary (shared data); ``BERT_CHINESE_VOCAB`` points elsewhere.
CHINESE_VOCAB = Path(os.environ.get("BERT_CHINESE_VOCAB", Path(__file__).resolve().parents[2] / "shared" / "data"
                                    / "bert-base-chinese" / "vocab.txt"))


def tiny_config(vocab_size, hidden=32, layers=2, heads=4, intermediate=64, positions=64, act="gelu"):
    return {"model_type": "bert", "vocab_size": vocab_size, "hidden_size": hidden, "num_hidden_layers": layers,
            "num_attention_heads": heads, "intermediate_size": intermediate, "max_position_embeddings": positions,
            "type_vocab_size": 2, "hidden_act": act, "layer_norm_eps": 1e-12}


def random_weights(config, seed=0, scale=0.2):
    """Canonical (Hugging Face named, [out, in]) random BERT parameters."""
    rng = np.random.default_rng(seed)
    h, f = config["hidden_size"], config["intermediate_size"]

    def normal(*shape):
        return (rng.normal(size=shape) * scale).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": normal(config["vocab_size"], h),
        "embeddings.position_embeddings.weight": normal(config["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": normal(config["type_vocab_size"], h),
        "embeddings.LayerNorm.weight": 1 + normal(h), "embeddings.LayerNorm.bias": normal(h),
        "pooler.dense.weight": normal(h, h), "pooler.dense.bias": normal(h),
    }
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            w[p + f"attention.self.{name}.weight"], w[p + f"attention.self.{name}.bias"] = normal(h, h), normal(h)
        w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"] = normal(h, h), normal(h)
        w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"] = 1 + normal(h), normal(h)
        w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"] = normal(f, h), normal(f)
        w[p + "output.dense.weight"], w[p + "output.dense.bias"] = normal(h, f), normal(h)
        w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"] = 1 + normal(h), normal(h)
    return w


def write_hf_checkpoint(folder, vocab, config, weights, lowercase=True):
    """A Hugging Face folder, with the old-style ``bert.`` prefix and LayerNorm gamma/beta names."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": lowercase}))
    renamed = {"bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
               for k, v in weights.items()}
    save_file(renamed, str(folder / "model.safetensors"))
    return folder


def hf_to_google_name(name):
    parts = name.split(".")
    leaf = parts.pop()
    path = "/".join(parts)
    path = path.replace("layer/", "layer_")
    if path.startswith("embeddings/") and path.endswith("_embeddings"):
        return "bert/" + path, False
    if path.endswith("LayerNorm"):
        return f"bert/{path}/{'gamma' if leaf == 'weight' else 'beta'}", False
    return f"bert/{path}/{'kernel' if leaf == 'weight' else 'bias'}", leaf == "weight"


def write_google_checkpoint(folder, vocab, config, weights):
    """A Google-format folder: bert_config.json, vocab.txt, bert_model.ckpt.{index,data-*}."""
    import tensorflow as tf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    google_config = {k: v for k, v in config.items() if k != "model_type"}
    (folder / "bert_config.json").write_text(json.dumps(google_config))
    (folder / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
    names, tensors = [], []
    for key, value in weights.items():
        name, transpose = hf_to_google_name(key)
        names.append(name)
        tensors.append(tf.constant(value.T if transpose else value))
    names.append("cls/predictions/output_bias")  # a pretraining head the reader must ignore
    tensors.append(tf.zeros([config["vocab_size"]]))
    tf.raw_ops.SaveV2(prefix=str(folder / "bert_model.ckpt"), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=tensors)
    return folder


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _gelu(x, act):
    if act == "gelu":
        return 0.5 * x * (1 + erf(x / np.sqrt(2)))
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def numpy_bert(weights, config, ids, mask, act=None):
    """Hidden states of every layer ``[L, B, S, H]`` (float64), from canonical weights."""
    act = act or config["hidden_act"]
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    eps, heads = config["layer_norm_eps"], config["num_attention_heads"]
    b, s = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:s][None] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    bias = np.where(mask[:, None, None, :], 0.0, -1e9)
    out = []
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def dense(v, name):
            return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        def split(v):
            return v.reshape(b, s, heads, -1).transpose(0, 2, 1, 3)

        q, k, v = (split(dense(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1]) + bias
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, -1)
        x = _layer_norm(x + dense(context, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"], eps)
        x = _layer_norm(x + dense(_gelu(dense(x, "intermediate.dense"), act), "output.dense"),
                        w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        out.append(x)
    return np.stack(out)
