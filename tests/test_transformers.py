"""TransformerEmbedding: RoBERTa, XLM-RoBERTa, ALBERT, DistilBERT, ELECTRA, DeBERTa-v3 (and BERT)
from Hugging Face folders written by the tests: hidden states against an independent numpy
forward pass, alignment with each checkpoint's own tokenizer, tagging, save/load, export to
ONNX Runtime and OpenVINO (f32 tags equal to Keras, INT8 with measured agreement), hub
downloads on 127.0.0.1 and clear errors."""

import json
import re
import shutil

import numpy as np
import pytest

from transformer_support import FAMILIES, family_tokenizer, numpy_forward, random_weights, tiny_config, write_checkpoint
from bilstm_crf_ner import BLSTMCRFModel, ConfigError, ModelLoadError, TransformerEmbedding
from bilstm_crf_ner.core.encoders import load_encoder
from bilstm_crf_ner.core.subword import SubwordAligner, SubwordEncoder
from bilstm_crf_ner.core.tags import is_valid

#: Largest absolute difference allowed between the Keras encoder (float32) and the float64
#: numpy reference, on hidden states of order 1 after two or three layers.
TOLERANCE = 1e-5
ENGLISH = [["Johannes", "visited", "Zürich", "and", "New", "York", "in", "2006", "."],
           ["Unaffable", "U.S.", "officials", "met", "Angela", "Merkel", "yesterday"],
           ["OK"]]


@pytest.fixture(scope="module")
def texts(msra):
    from english_ner import english_ner

    chinese = ["".join(s) for s in msra[0][:700] + msra[2][:400]]  # every character the tests tag
    english = [" ".join(s) for s in english_ner()[0][:300]] + [" ".join(s) for s in ENGLISH]
    return chinese + english


@pytest.fixture(scope="module")
def checkpoints(texts, tmp_path_factory):
    """A tiny random checkpoint of every family, with a tokenizer trained on Chinese and English."""
    root = tmp_path_factory.mktemp("transformers")
    out = {}
    for seed, family in enumerate(FAMILIES):
        tokenizer = family_tokenizer(family, texts, vocab_size=5000)
        config = tiny_config(family, tokenizer.get_vocab_size())
        weights = random_weights(config, seed=seed)
        out[family] = write_checkpoint(root / family, config, weights, tokenizer), config, weights
    return out


def _batch(rows):
    ids = np.zeros((len(rows), max(map(len, rows)), 2), np.int32)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids


# ---------------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("family", FAMILIES)
def test_hidden_states_equal_the_reference_forward_pass(checkpoints, family):
    folder, config, weights = checkpoints[family]
    embedding = TransformerEmbedding(str(folder), sequence_length=40)
    embedding.build_vocab(ENGLISH)
    assert embedding.token_unit == "word"
    ids = _batch(embedding.encode_many(ENGLISH))  # a right-padded batch of 3 lengths
    features = np.asarray(embedding.build_layer()(ids))
    mask = ids[..., 0] > 0
    pieces = np.where(mask, ids[..., 0] - 1, embedding.architecture["pad_token_id"])
    reference = numpy_forward(config, weights, pieces, mask)[-1]
    for row, tokens in enumerate(ENGLISH):
        expected = reference[row, ids[row, : len(tokens), 1]]
        np.testing.assert_allclose(features[row, : len(tokens)], expected, atol=TOLERANCE, rtol=0)
    assert np.abs(features).max() > 0.1  # not trivially equal


# ---------------------------------------------------------------------------------- alignment
@pytest.mark.parametrize("family", ["roberta", "xlm-roberta", "distilbert"])  # byte-level BPE, Unigram, WordPiece
def test_words_get_the_pieces_of_the_tokenizer_and_one_label_each(checkpoints, family):
    from tokenizers import Tokenizer

    folder = checkpoints[family][0]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    aligner = SubwordAligner((folder / "tokenizer.json").read_text())
    for words in ENGLISH:
        ids = aligner.encode(words, "word")
        # The pieces of pre-split words are those of the running text with a space before every word.
        assert (ids[:, 0] - 1).tolist() == tokenizer.encode(" " + " ".join(words)).ids
        starts = ids[: len(words), 1]
        assert starts[0] == len(aligner.prefix) and np.all(np.diff(starts) >= 1)
        assert np.all(ids[len(words):, 1] == 0)
        first = [tokenizer.id_to_token(int(ids[s, 0]) - 1) for s in starts]
        if family == "roberta":  # RoBERTa's leading-space form on every word (add_prefix_space=True)
            assert all(piece.startswith("Ġ") for piece in first), first
        if family == "xlm-roberta":
            assert all(piece.startswith("▁") for piece in first), first


@pytest.mark.parametrize("family", ["roberta", "xlm-roberta", "albert"])  # BPE and Unigram merge characters
def test_chinese_characters_get_one_tag_each_where_the_tokenizer_merges_them(checkpoints, msra, family):
    from tokenizers import Tokenizer

    folder = checkpoints[family][0]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    aligner = SubwordAligner((folder / "tokenizer.json").read_text())
    merged = 0
    for chars in msra[0][:50]:
        ids = aligner.encode(chars, "char")
        starts = ids[: len(chars), 1]
        assert np.all(np.diff(starts) >= 1) and len(set(starts)) == len(chars)
        assert ids[0, 0] - 1 == aligner.prefix[0] and ids[-1, 0] - 1 == aligner.suffix[-1]
        merged += len(tokenizer.encode("".join(chars), add_special_tokens=False).ids) < len(chars)
    assert merged > 10  # the tokenizer itself merges characters in most sentences


def test_unknown_and_empty_tokens_keep_their_place(checkpoints):
    folder = checkpoints["distilbert"][0]
    aligner = SubwordAligner((folder / "tokenizer.json").read_text())
    words = ["a", "\u200b", "b"]
    ids = aligner.encode(words, "word")
    assert ids[1, 1] == ids[0, 1] + 1 and ids[ids[1, 1], 0] - 1 == aligner.unk


@pytest.mark.parametrize("family", ["roberta", "deberta-v2"])
def test_the_runtime_rebuilds_the_same_tokenizer(checkpoints, family, tmp_path):
    folder = checkpoints[family][0]
    encoder = SubwordEncoder(SubwordAligner((folder / "tokenizer.json").read_text()), "word", 48, 4)
    description = encoder.save(tmp_path)
    loaded = load_encoder(tmp_path, json.loads(json.dumps(description)))
    long = [w for s in ENGLISH for w in s] * 6
    assert loaded.windows(long) == encoder.windows(long) and len(encoder.windows(long)) > 1
    for words in ENGLISH:
        assert np.array_equal(loaded.encode(words), encoder.encode(words))
    with pytest.raises(ModelLoadError, match="pieces"):
        load_encoder(tmp_path, dict(description, vocab_size=description["vocab_size"] + 1))


# ---------------------------------------------------------------------------------- errors
def test_bad_checkpoints_raise_clear_errors(checkpoints, tmp_path):
    folder = checkpoints["roberta"][0]
    gpt = shutil.copytree(folder, tmp_path / "gpt2")
    (gpt / "config.json").write_text(json.dumps(dict(checkpoints["roberta"][1], model_type="gpt2")))
    with pytest.raises(ModelLoadError, match="supported model_type values are albert, bert, deberta-v2, distilbert"):
        TransformerEmbedding(str(gpt))
    torch_only = shutil.copytree(folder, tmp_path / "torch_only")
    (torch_only / "model.safetensors").rename(torch_only / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="pytorch_model.bin; convert them to safetensors"):
        TransformerEmbedding(str(torch_only)).build_layer()
    spm = shutil.copytree(checkpoints["deberta-v2"][0], tmp_path / "spm_only")
    (spm / "tokenizer.json").rename(spm / "spm.model")
    with pytest.raises(ModelLoadError, match="save_pretrained"):
        TransformerEmbedding(str(spm))
    v2 = shutil.copytree(checkpoints["deberta-v2"][0], tmp_path / "deberta_v2_style")
    (v2 / "config.json").write_text(json.dumps(dict(checkpoints["deberta-v2"][1], position_buckets=-1)))
    with pytest.raises(ModelLoadError, match="DeBERTa-v3"):
        TransformerEmbedding(str(v2))
    with pytest.raises(ConfigError, match="ALBERT"):
        TransformerEmbedding(str(checkpoints["albert"][0]), trainable=1)
    with pytest.raises(ConfigError, match="exceeds"):
        TransformerEmbedding(str(folder), sequence_length=1000)
    small = shutil.copytree(folder, tmp_path / "small_vocab")
    (small / "config.json").write_text(json.dumps(dict(checkpoints["roberta"][1], vocab_size=10)))
    with pytest.raises(ModelLoadError, match="embedding matrix"):
        TransformerEmbedding(str(small))
    with pytest.raises(ModelLoadError, match="does not exist"):
        TransformerEmbedding(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("arguments, message", [
    ({"trainable": 3}, "trainable"), ({"trainable": "all"}, "trainable"), ({"token_unit": "byte"}, "token_unit"),
    ({"dropout": 1.0}, "dropout"), ({"encoder_learning_rate": -1}, "encoder_learning_rate"),
    ({"sequence_length": 2}, "sequence_length"), ({"sequence_length": 32.5}, "sequence_length"),
    ({"window_overlap": 30}, "window_overlap"), ({"checkpoint": None}, "checkpoint"),
])
def test_every_bad_constructor_argument_is_a_config_error_at_construction(checkpoints, arguments, message):
    arguments = {"checkpoint": str(checkpoints["electra"][0]), "sequence_length": 32} | arguments
    with pytest.raises(ConfigError, match=message):
        TransformerEmbedding(**arguments)


def test_hub_handles_download_through_the_same_hub_code(checkpoints, tmp_path):
    from hub_server import serve_repo

    from bilstm_crf_ner.keras.bert.hub import download

    folder = checkpoints["xlm-roberta"][0]
    with serve_repo("org/tiny-xlmr", folder) as (endpoint, requests):
        local = download("org/tiny-xlmr", cache_dir=tmp_path / "cache", endpoint=endpoint)
        assert any("/resolve/" in r for r in requests)
    assert (local / "tokenizer.json").read_bytes() == (folder / "tokenizer.json").read_bytes()
    assert TransformerEmbedding(str(local)).architecture["model_type"] == "xlm-roberta"


# ---------------------------------------------------------------------------------- fine-tuning
def _encoder_values(model):
    return {v.path: v.numpy().copy() for v in model.network.embedding.backbone.weights}


@pytest.mark.parametrize("family", ["electra", "deberta-v2"])
@pytest.mark.parametrize("trainable, changed_layers", [(False, set()), (1, {1}), (True, {"embeddings", 0, 1})])
def test_fine_tuning_control(checkpoints, msra, family, trainable, changed_layers):
    x, y = msra[0][:32], msra[1][:32]  # one step per fit: which weights move is all that is asked
    embedding = TransformerEmbedding(str(checkpoints[family][0]), sequence_length=32, trainable=trainable)
    model = BLSTMCRFModel(embedding, lstm_units=8, seed=0)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # builds the network
    before = _encoder_values(model)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    after = _encoder_values(model)
    changed = {path for path in before if not np.array_equal(before[path], after[path])}
    blocks = [re.search(r"(?:encoder|transformer)_layer_(\d+)/", path) for path in changed]
    layers = {int(block.group(1)) if block else "embeddings" for block in blocks}
    assert layers == changed_layers, sorted(changed)
    assert not any("pooled_dense" in p for p in changed)


# ---------------------------------------------------------------------------------- tagging and export
def _spans(result):
    return [[(e.type, e.start, e.end, e.text) for e in entities] for entities in result]


#: Families whose export is also quantized in the tagging test.
INT8_FAMILIES = ("xlm-roberta", "deberta-v2")


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_tagging_save_load_and_export_keep_the_tags(checkpoints, msra, family, tmp_path):
    from bilstm_crf_ner.runtime import Tagger

    folder = checkpoints[family][0]
    model = BLSTMCRFModel(TransformerEmbedding(str(folder), sequence_length=32, trainable=True), lstm_units=32,
                          learning_rate=5e-3, seed=3)
    model.fit(msra[0][:400], msra[1][:400], epochs=2, batch_size=32, verbose=0)
    sample = msra[2][:120]  # real sentences, many longer than one window of 30 pieces
    predicted = model.predict(sample, batch_size=16)
    assert all(len(t) == len(s) and is_valid(t, "BIO") for t, s in zip(predicted, sample))
    # A briefly trained tagger may still say O everywhere; its 4 best paths never do.
    nbest = model.predict_nbest(sample[:40], n=4)
    assert any(tag != "O" for paths in nbest for tags, _ in paths for tag in tags)
    texts = ["".join(s) for s in msra[2][200:220]] + ["".join("".join(s) for s in msra[2][:6]), "", " 中 国 "]
    entities = model.predict_entities(texts)
    for text, found in zip(texts, entities):
        assert all(text[e.start:e.end] == e.text for e in found)

    model.save(tmp_path / "model")
    shutil.move(str(folder), tmp_path / "checkpoint_moved")  # a saved model needs no checkpoint folder
    try:
        assert BLSTMCRFModel.load(tmp_path / "model").predict(sample, batch_size=16) == predicted
    finally:
        shutil.move(str(tmp_path / "checkpoint_moved"), folder)

    # INT8 (NNCF's transformer scheme) for one BPE and one disentangled-attention family.
    int8_calibration = msra[0][600:700] if family in INT8_FAMILIES else None
    model.export(tmp_path / "ir", int8_calibration=int8_calibration, measure=False)
    meta = json.loads((tmp_path / "ir" / "metadata.json").read_text())
    assert meta["tokenizer"]["type"] == "subword" and max(meta["parity"].values()) < 1e-3
    # OpenVINO runs fused layer norms (embeddings + 2 per layer) and attention, except DeBERTa's
    # disentangled attention, which is not the masked-softmax pattern the rewrite matches.
    layers = checkpoints[family][1].get("num_hidden_layers", checkpoints[family][1].get("n_layers"))
    assert meta["graph"]["openvino_fused"] == {"layer_norm": 1 + 2 * layers,
                                               "attention": 0 if family == "deberta-v2" else layers}
    for backend in ("onnxruntime", "openvino"):
        tagger = Tagger.load(tmp_path / "ir", backend=backend, precision="f32")
        assert tagger.predict(sample, batch_size=16) == predicted
        runtime_nbest = tagger.predict_nbest(sample[:40], n=4)
        assert [[tags for tags, _ in paths] for paths in runtime_nbest] == [[tags for tags, _ in paths] for paths in nbest]
        np.testing.assert_allclose([[p for _, p in paths] for paths in runtime_nbest],
                                   [[p for _, p in paths] for paths in nbest], atol=1e-4)
        assert _spans(tagger.predict_entities(texts)) == _spans(entities)
    if int8_calibration is not None:
        int8 = meta["int8"]
        assert int8["scheme"] == "transformer" and int8["agreement_held_out"]
        assert int8["token_agreement_with_f32"] > 0.9, int8  # measured, recorded in the metadata
        # Each layer's Q/K/V input and attention output quantizer moves up to its producer.
        assert int8["quantizers_moved_before_layout_ops"] == 2 * layers, int8
        tags = Tagger.load(tmp_path / "ir", backend="openvino", precision="int8").predict(sample[:50])
        assert all(len(t) == len(s) and is_valid(t, "BIO") for t, s in zip(tags, sample[:50]))


def test_cli_trains_any_family(checkpoints, tmp_path, capsys):
    from bilstm_crf_ner.cli import main
    from conftest import msra_dir

    out = tmp_path / "model"
    folder = str(checkpoints["albert"][0])
    assert main(["train", "--msra", str(msra_dir()), "--max-sentences", "64", "--epochs", "1", "--transformer", folder,
                 "--sequence-length", "32", "--trainable", "none", "--lstm-units", "8", "--output", str(out), "-q"]) == 0
    loaded = BLSTMCRFModel.load(out)
    assert isinstance(loaded.embedding, TransformerEmbedding) and loaded.embedding.architecture["model_type"] == "albert"
    assert len(loaded.predict(["中国人"])[0]) == 3
    with pytest.raises(SystemExit) as stop:
        main(["train", "--msra", str(msra_dir()), "--bert", folder, "--transformer", folder, "--output", str(out)])
    assert stop.value.code == 2 and "not allowed with" in capsys.readouterr().err
