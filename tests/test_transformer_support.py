"""Tests of the test-support module ``transformer_support`` itself (numpy + tokenizers only, no torch).

The module's forward passes and checkpoints were cross-checked against Hugging Face transformers offline; these
tests pin the properties that check relied on, so a later edit of the helpers cannot silently weaken them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file
from tokenizers import Tokenizer

import transformer_support as ts

TEXTS = ["Hello world, this is a test.", "北京欢迎你来到中国。", "上海是一个美丽的城市",
         "The quick brown fox jumps over the lazy dog", "张三在北京大学读书, and he likes NLP."] * 2
CJK = sorted({c for t in TEXTS for c in t if "\u4e00" <= c <= "\u9fff"})


@pytest.fixture(scope="module")
def tokenizers():
    return {mt: ts.family_tokenizer(mt, TEXTS, vocab_size=400) for mt in ts.FAMILIES}


def _batch(rows, pad):
    ids = np.full((len(rows), max(map(len, rows))), pad, np.int64)
    mask = np.zeros(ids.shape, bool)
    for i, row in enumerate(rows):
        ids[i, :len(row)], mask[i, :len(row)] = row, True
    return ids, mask


@pytest.mark.parametrize("model_type", ts.FAMILIES)
def test_config_has_the_family_keys(model_type):
    config = ts.tiny_config(model_type, 123)
    assert json.loads(json.dumps(config)) == config
    assert config["model_type"] == model_type and config["vocab_size"] == 123 and config["architectures"]
    assert config["pad_token_id"] == (1 if model_type in ("roberta", "xlm-roberta") else 0)
    if model_type == "distilbert":
        assert (config["dim"], config["n_layers"], config["n_heads"], config["hidden_dim"]) == (32, 2, 4, 64)
        assert config["activation"] == "gelu" and config["sinusoidal_pos_embds"] is False
        assert "hidden_size" not in config and "layer_norm_eps" not in config
        return
    assert (config["hidden_size"], config["num_attention_heads"], config["intermediate_size"]) == (32, 4, 64)
    assert config["hidden_act"] == "gelu"
    assert config["num_hidden_layers"] == (3 if model_type == "albert" else 2)
    assert config["layer_norm_eps"] == {"roberta": 1e-5, "xlm-roberta": 1e-5, "deberta-v2": 1e-7}.get(model_type, 1e-12)
    assert config["max_position_embeddings"] == (66 if model_type in ("roberta", "xlm-roberta") else 64)
    assert "type_vocab_size" in config
    if model_type in ("roberta", "xlm-roberta"):
        assert (config["bos_token_id"], config["eos_token_id"], config["type_vocab_size"]) == (0, 2, 1)
    if model_type == "albert":
        assert (config["embedding_size"], config["num_hidden_groups"], config["inner_group_num"]) == (16, 1, 1)
        assert (config["bos_token_id"], config["eos_token_id"]) == (2, 3)
    if model_type == "electra":
        assert config["embedding_size"] == 16
    if model_type == "deberta-v2":
        assert config["relative_attention"] and config["share_att_key"] and not config["position_biased_input"]
        assert config["pos_att_type"] == ["p2c", "c2p"] and config["position_buckets"] == 16
        assert config["max_relative_positions"] == -1 and config["norm_rel_ebd"] == "layer_norm"
        assert config["type_vocab_size"] == 0
    assert ts.tiny_config(model_type, 9, hidden_size=48)["hidden_size"] == 48


EXPECTED = {  # a few names (and shapes) per family, as real checkpoints spell them
    "bert": {"bert.embeddings.word_embeddings.weight": (50, 32),
             "bert.embeddings.token_type_embeddings.weight": (2, 32),
             "bert.encoder.layer.1.attention.self.query.weight": (32, 32), "bert.pooler.dense.weight": (32, 32),
             "cls.predictions.bias": (50,)},
    "roberta": {"roberta.embeddings.position_embeddings.weight": (66, 32),
                "roberta.embeddings.token_type_embeddings.weight": (1, 32),
                "roberta.encoder.layer.0.intermediate.dense.weight": (64, 32),
                "roberta.encoder.layer.0.output.dense.weight": (32, 64), "lm_head.dense.weight": (32, 32)},
    "xlm-roberta": {"roberta.embeddings.word_embeddings.weight": (50, 32), "lm_head.bias": (50,),
                    "roberta.encoder.layer.1.attention.output.LayerNorm.weight": (32,)},
    "albert": {"albert.embeddings.word_embeddings.weight": (50, 16),
               "albert.encoder.embedding_hidden_mapping_in.weight": (32, 16),
               "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight": (32, 32),
               "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight": (64, 32),
               "albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight": (32,),
               "albert.pooler.weight": (32, 32), "predictions.dense.weight": (16, 32)},
    "distilbert": {"distilbert.embeddings.position_embeddings.weight": (64, 32),
                   "distilbert.transformer.layer.0.attention.q_lin.weight": (32, 32),
                   "distilbert.transformer.layer.1.ffn.lin1.weight": (64, 32),
                   "distilbert.transformer.layer.1.sa_layer_norm.bias": (32,), "vocab_projector.bias": (50,)},
    "electra": {"electra.embeddings.word_embeddings.weight": (50, 16), "electra.embeddings_project.weight": (32, 16),
                "electra.encoder.layer.0.attention.self.key.weight": (32, 32),
                "discriminator_predictions.dense_prediction.weight": (1, 32)},
    "deberta-v2": {"deberta.embeddings.word_embeddings.weight": (50, 32),
                   "deberta.encoder.rel_embeddings.weight": (32, 32),  # 2 x position_buckets rows
                   "deberta.encoder.LayerNorm.weight": (32,),
                   "deberta.encoder.layer.0.attention.self.query_proj.weight": (32, 32),
                   "deberta.encoder.layer.1.attention.self.value_proj.bias": (32,),
                   "lm_predictions.lm_head.dense.weight": (32, 32)},
}
ABSENT = {  # ALBERT has one shared layer; DeBERTa-v3 has no absolute positions, token types or separate pos projections
    "albert": ["albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.weight",
               "albert.encoder.albert_layer_groups.0.albert_layers.1.ffn.weight"],
    "distilbert": ["distilbert.embeddings.token_type_embeddings.weight"],
    "electra": ["electra.pooler.dense.weight"],
    "deberta-v2": ["deberta.embeddings.position_embeddings.weight", "deberta.embeddings.token_type_embeddings.weight",
                   "deberta.encoder.layer.0.attention.self.pos_key_proj.weight"]}


@pytest.mark.parametrize("model_type", ts.FAMILIES)
def test_weights_have_checkpoint_names_and_shapes(model_type):
    weights = ts.random_weights(ts.tiny_config(model_type, 50))
    for name, shape in EXPECTED[model_type].items():
        assert weights[name].shape == shape, name
    for name in ABSENT.get(model_type, []):
        assert name not in weights
    assert all(v.dtype == np.float32 and np.all(v != 0) for v in weights.values())
    norms = [v for k, v in weights.items() if k.endswith(("LayerNorm.weight", "layer_norm.weight", "_norm.weight"))]
    assert norms and all(abs(v.mean() - 1) < 0.2 for v in norms)
    again = ts.random_weights(ts.tiny_config(model_type, 50))
    assert all(np.array_equal(weights[k], again[k]) for k in weights)  # seeded


def test_deberta_separate_position_projections():
    weights = ts.random_weights(ts.tiny_config("deberta-v2", 50, share_att_key=False))
    assert weights["deberta.encoder.layer.1.attention.self.pos_key_proj.weight"].shape == (32, 32)
    assert weights["deberta.encoder.layer.1.attention.self.pos_query_proj.bias"].shape == (32,)


@pytest.mark.parametrize("model_type", ts.FAMILIES)
def test_tokenizers_encode_cjk_and_english(model_type, tokenizers):
    tok = tokenizers[model_type]
    kind, specials = ts.FAMILY_TOKENIZER[model_type]
    vocab = tok.get_vocab()
    for i, token in enumerate(specials):
        assert vocab[token] == i
    mask = "<mask>" if "<s>" in specials else "[MASK]"
    if mask not in specials:
        assert vocab[mask] == tok.get_vocab_size() - 1
    roles = ts._roles(set(vocab))
    for c in CJK:  # every CJK character of the texts is a single token
        pieces = [t for t in tok.encode(c, add_special_tokens=False).tokens if t != "▁"]
        assert len(pieces) == 1 and roles["unk"] not in pieces, (c, pieces)
    enc = tok.encode("北京欢迎你 hello world")
    assert enc.tokens[0] == roles["cls"] and enc.tokens[-1] == roles["sep"] and roles["unk"] not in enc.tokens
    assert tok.decode(enc.ids).replace(" ", "").lower() == "北京欢迎你helloworld"
    assert ts.tiny_config(model_type, tok.get_vocab_size())["pad_token_id"] == vocab[roles["pad"]]


def test_tokenizer_kinds_look_like_the_real_files(tokenizers):
    roberta = json.loads(tokenizers["roberta"].to_str())
    assert roberta["model"]["type"] == "BPE" and roberta["post_processor"]["type"] == "RobertaProcessing"
    assert roberta["pre_tokenizer"] == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                                        "use_regex": True}
    xlmr = json.loads(tokenizers["xlm-roberta"].to_str())
    assert xlmr["model"]["type"] == "Unigram" and xlmr["pre_tokenizer"]["prepend_scheme"] == "always"
    assert "NFKC" in json.dumps(xlmr["normalizer"])
    assert tokenizers["albert"].encode("Café ABC").tokens[1:-1] == tokenizers["albert"].encode("cafe abc").tokens[1:-1]
    assert tokenizers["xlm-roberta"].encode("ｆｕｌｌ").tokens == tokenizers["xlm-roberta"].encode("full").tokens
    bert = json.loads(tokenizers["bert"].to_str())
    assert bert["model"]["type"] == "WordPiece" and bert["normalizer"]["lowercase"] is True
    assert tokenizers["bert"].encode("Hello").tokens == tokenizers["bert"].encode("hello").tokens
    pair = tokenizers["xlm-roberta"].encode("北京", "上海").tokens
    assert pair[0] == "<s>" and pair.count("</s>") == 3


@pytest.mark.parametrize("model_type", ts.FAMILIES)
def test_write_checkpoint_round_trips(model_type, tokenizers, tmp_path):
    tok = tokenizers[model_type]
    config = ts.tiny_config(model_type, tok.get_vocab_size())
    weights = ts.random_weights(config)
    folder = ts.write_checkpoint(tmp_path / model_type, config, weights, tok)
    assert json.loads((folder / "config.json").read_text()) == config
    loaded = load_file(str(folder / "model.safetensors"))
    assert loaded.keys() == weights.keys() and all(np.array_equal(loaded[k], weights[k]) for k in weights)
    reloaded = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert reloaded.encode("北京 hello").ids == tok.encode("北京 hello").ids
    tok_config = json.loads((folder / "tokenizer_config.json").read_text())
    kind, specials = ts.FAMILY_TOKENIZER[model_type]
    assert tok_config["pad_token"] == specials[config["pad_token_id"]]
    assert tok_config["model_max_length"] == 64
    if model_type == "roberta":
        assert tok_config["add_prefix_space"] is False
    if model_type in ("bert", "distilbert", "electra", "albert"):
        assert tok_config["do_lower_case"] is True


def test_deberta_bucket_known_values():
    """Values of modeling_deberta_v2.make_log_bucket_position (read off transformers, torch float32)."""
    rel = [0, 1, 7, 8, 9, 10, 11, 12, 13, 16, 20, 24, 32, 40, 48, 63, 64, 100, -1, -8, -9, -12, -16, -32, -63, -100]
    want = [0, 1, 7, 8, 9, 9, 10, 10, 10, 11, 12, 12, 13, 14, 15, 15, 16, 17, -1, -8, -9, -10, -11, -13, -15, -17]
    assert ts.make_log_bucket_position(rel, 16, 64).tolist() == want
    rel = [0, 100, 128, 129, 200, 256, 511, 1000, -300]  # DeBERTa-v3 base: 256 buckets, 512 positions
    assert ts.make_log_bucket_position(rel, 256, 512).tolist() == [0, 100, 128, 129, 169, 192, 255, 317, -207]
    table = ts.deberta_relative_positions(64, ts.tiny_config("deberta-v2", 10))
    assert table.shape == (64, 64) and table[63, 0] == 15 and table[0, 63] == -15 and np.all(np.diag(table) == 0)
    unbucketed = ts.deberta_relative_positions(5, ts.tiny_config("deberta-v2", 10, position_buckets=-1))
    assert unbucketed[4, 0] == 4 and unbucketed[0, 4] == -4


@pytest.mark.parametrize("model_type", ts.FAMILIES)
def test_padding_never_reaches_real_positions(model_type):
    """Changing padded ids, or adding padded columns, leaves every real position's hidden states unchanged."""
    config = ts.tiny_config(model_type, 60)
    weights = ts.random_weights(config, seed=1)
    pad = config["pad_token_id"]
    rng = np.random.default_rng(0)
    rows = [list(rng.integers(5, 60, size=n)) for n in (30, 12, 1)]
    ids, mask = _batch(rows, pad)
    out = ts.numpy_forward(config, weights, ids, mask)
    layers = config.get("num_hidden_layers", config.get("n_layers"))
    assert out.shape == (layers, 3, 30, 32) and out.dtype == np.float64 and np.isfinite(out[:, mask]).all()
    noisy = np.where(mask, ids, rng.integers(5, 60, size=ids.shape))
    assert np.allclose(ts.numpy_forward(config, weights, noisy, mask)[:, mask], out[:, mask], atol=1e-10)
    wider = np.pad(ids, ((0, 0), (0, 10)), constant_values=pad)
    wide = ts.numpy_forward(config, weights, wider, np.pad(mask, ((0, 0), (0, 10))))
    assert np.allclose(wide[:, :, :30][:, mask], out[:, mask], atol=1e-10)
    alone = ts.numpy_forward(config, weights, ids[1:2, :12], mask[1:2, :12])
    assert np.allclose(alone[:, 0], out[:, 1, :12], atol=1e-10)


def test_albert_shares_one_layer_across_depth():
    config = ts.tiny_config("albert", 40)
    weights = ts.random_weights(config)
    ids, mask = _batch([[2, 7, 9, 11, 3], [2, 5, 3]], 0)
    out = ts.numpy_forward(config, weights, ids, mask)
    assert out.shape[0] == 3 and not np.allclose(out[0], out[1])
    changed = dict(weights)
    name = "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.bias"
    changed[name] = weights[name] + np.linspace(-0.5, 0.5, 32, dtype=np.float32)  # not a constant: LN removes those
    again = ts.numpy_forward(config, changed, ids, mask)
    for layer in range(3):  # the one shared layer feeds every depth
        assert not np.allclose(again[layer][mask], out[layer][mask])
    again = ts.numpy_forward(config, dict(weights, **{"albert.encoder.embedding_hidden_mapping_in.bias":
                                                      weights["albert.encoder.embedding_hidden_mapping_in.bias"] * 0}),
                             ids, mask)
    assert not np.allclose(again[0][mask], out[0][mask])


def test_roberta_positions_start_after_padding_idx():
    """RoBERTa's forward equals the BERT reference fed position rows padding_idx + 1 onward (two implementations)."""
    config = ts.tiny_config("roberta", 50)
    weights = ts.random_weights(config, seed=2)
    bert_config = ts.tiny_config("bert", 50, layer_norm_eps=config["layer_norm_eps"], type_vocab_size=1)
    bert = {"bert." + k[len("roberta."):]: v for k, v in weights.items() if k.startswith("roberta.")}
    bert["bert.embeddings.position_embeddings.weight"] = weights["roberta.embeddings.position_embeddings.weight"][2:]
    ids, mask = _batch([[0, 7, 9, 11, 2], [0, 5, 2]], 1)
    roberta_out = ts.numpy_forward(config, weights, ids, mask)
    assert np.allclose(ts.numpy_forward(bert_config, bert, ids, mask)[:, mask], roberta_out[:, mask], atol=1e-10)
    no_types = dict(weights, **{"roberta.embeddings.token_type_embeddings.weight":
                                weights["roberta.embeddings.token_type_embeddings.weight"] * 0})
    assert not np.allclose(ts.numpy_forward(config, no_types, ids, mask)[:, mask], roberta_out[:, mask])


def test_deberta_relative_terms_matter():
    """Dropping c2p/p2c (or the rel-embedding LayerNorm) changes the output: each term is really used."""
    config = ts.tiny_config("deberta-v2", 40)
    weights = ts.random_weights(config)
    ids, mask = _batch([list(range(1, 21)), [1, 5, 2]], 0)
    out = ts.numpy_forward(config, weights, ids, mask)
    for change in ({"pos_att_type": ["c2p"]}, {"pos_att_type": ["p2c"]}, {"norm_rel_ebd": "none"}):
        assert not np.allclose(ts.numpy_forward(dict(config, **change), weights, ids, mask)[:, mask], out[:, mask])
    assert np.allclose(ts.numpy_forward(dict(config, pos_att_type="p2c|c2p"), weights, ids, mask), out)


@pytest.mark.parametrize("kind", ["bpe", "unigram", "wordpiece"])
def test_tokenizer_training_is_reproducible(kind):
    """The same texts give the same tokenizer.json (the raw trainers number tied pieces in hash-map order)."""
    rng = np.random.default_rng(0)
    cjk = [chr(0x4E00 + int(i)) for i in rng.integers(0, 500, size=60)]
    english = "the a fox dog runs jumps over under quick lazy brown red city river Beijing Shanghai visited".split()
    texts = ["".join(rng.choice(cjk, size=rng.integers(5, 15))) + " "
             + " ".join(rng.choice(english, size=rng.integers(3, 8))) for _ in range(40)]
    first = ts.tiny_tokenizer(kind, texts, vocab_size=600).to_str()
    assert all(ts.tiny_tokenizer(kind, texts, vocab_size=600).to_str() == first for _ in range(3))


def test_too_small_a_vocabulary_is_an_error():
    with pytest.raises(ValueError, match="too small"):
        ts.tiny_tokenizer("bpe", TEXTS, vocab_size=280)
