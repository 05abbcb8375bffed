"""BLSTMCRFModel on real MSRA slices: learning, prediction, save/load, bad input."""

import json

import keras
import numpy as np
import pytest

from bilstm_crf_ner import (
    BareEmbedding, BLSTMCRFModel, ConfigError, Entity, InputError, ModelLoadError, ModelSaveError, NotFittedError,
    TagSchemeError,
)
from bilstm_crf_ner.core.tags import convert_tags, is_valid


def test_tiny_training_run_learns_msra(trained, msra):
    model, history = trained
    report = model.evaluate(msra[2][:500], msra[3][:500])
    assert report.f1 > 0.4, str(report)  # random tagging scores ~0; this budget reaches about 0.5
    assert set(report.per_type) == {"PER", "LOC", "ORG"}
    assert "micro avg" in str(report)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] / 2
    assert len(history.history["val_f1"]) == 4 and history.history["val_f1"][-1] > history.history["val_f1"][0]


def test_predictions_are_valid_sequences_in_the_data_scheme(trained, msra):
    model, _ = trained
    assert model.tag_scheme == "BIOES" and model.data_scheme == "BIO"
    for tags in model.predict(msra[2][:200]):
        assert is_valid(tags, "BIO")
    for tags in model.predict(msra[2][:200], tag_scheme="BIOES"):
        assert is_valid(tags, "BIOES")


def test_padded_batches_tag_exactly_like_single_sentences(trained, msra):
    model, _ = trained
    sentences = msra[2][:40]
    batched = model.predict(sentences, batch_size=40)
    assert batched == [model.predict([s])[0] for s in sentences]


def test_raw_strings_entities_and_offsets(trained):
    model, _ = trained
    text = "中共中央致中国致公党十一大的贺词"
    assert model.predict([text]) == model.predict([list(text)])
    spaced = "  中共中央 致中国致公党十一大的贺词 "
    entities = model.predict_entities([spaced, text, list(text), "", "   "])
    for entity in entities[0]:
        assert isinstance(entity, Entity) and spaced[entity.start:entity.end] == entity.text
    for entity in entities[1]:
        assert text[entity.start:entity.end] == entity.text
    assert entities[2] == entities[1]  # token indices equal char offsets for a char list
    assert entities[3] == [] and entities[4] == []
    assert model.predict(["", "   ", []]) == [[], [], []]
    assert model.predict([]) == []


def test_long_text_is_tagged_in_full(trained, msra):
    model, _ = trained
    text = "".join("".join(s) for s in msra[2][:60])
    assert len(text) > 3 * max(map(len, msra[0][:3000]))
    tags = model.predict([text])[0]
    assert len(tags) == len(text)


def test_save_load_predicts_identically_and_continues_training(trained, msra, tmp_path):
    model, _ = trained
    model.save(tmp_path / "m")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"bilstm_crf_ner.json", "network.weights.h5", "vocab.json", "optimizer.npz"} <= files
    loaded = BLSTMCRFModel.load(tmp_path / "m")
    sample = msra[2][:300]
    assert loaded.predict(sample) == model.predict(sample)
    assert loaded.tags == model.tags and loaded.data_scheme == "BIO"
    assert int(loaded.network.optimizer.iterations.numpy()) == int(model.network.optimizer.iterations.numpy())
    before = loaded.evaluate(msra[2][:300], msra[3][:300]).f1
    history = loaded.fit(msra[0][3000:4000], msra[1][3000:4000], epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert loaded.evaluate(msra[2][:300], msra[3][:300]).f1 > before - 0.05
    assert model.predict(sample) != loaded.predict(sample) or before == 1.0  # training really changed weights


def test_save_is_atomic_and_refuses_foreign_folders(trained, tmp_path, monkeypatch):
    model, _ = trained
    target = tmp_path / "m"
    model.save(target)
    before = {p.name: p.stat().st_size for p in target.iterdir()}

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(model.network, "save_weights", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(target)
    monkeypatch.undo()
    assert {p.name: p.stat().st_size for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no half-written folder left
    BLSTMCRFModel.load(target)

    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_text("meow")
    with pytest.raises(ModelSaveError, match="not a saved model"):
        model.save(foreign)
    with pytest.raises(ModelSaveError, match="already exists"):
        model.save(target, overwrite=False)


def test_load_errors(tmp_path, trained):
    with pytest.raises(ModelLoadError, match="not a saved"):
        BLSTMCRFModel.load(tmp_path)
    model, _ = trained
    model.save(tmp_path / "m")
    config_path = tmp_path / "m" / "bilstm_crf_ner.json"
    config = json.loads(config_path.read_text())
    config["format_version"] = 99
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="format version 99"):
        BLSTMCRFModel.load(tmp_path / "m")
    config_path.write_text("{not json")
    with pytest.raises(ModelLoadError, match="corrupt"):
        BLSTMCRFModel.load(tmp_path / "m")
    model.save(tmp_path / "n")
    (tmp_path / "n" / "network.weights.h5").unlink()
    with pytest.raises(ModelLoadError, match="network.weights.h5"):
        BLSTMCRFModel.load(tmp_path / "n")


def test_bad_input_gives_clear_errors(trained):
    model, _ = trained
    with pytest.raises(InputError, match="list of sentences"):
        model.predict("中共中央")
    with pytest.raises(InputError, match=r"x\[0\]\[1\] is int"):
        model.predict([["中", 3]])
    with pytest.raises(InputError, match="empty or whitespace token"):
        model.predict([["中", " "]])
    with pytest.raises(InputError, match="sentence 0 has 2 tokens but 1 tags"):
        model.evaluate([["中", "国"]], [["O"]])
    with pytest.raises(InputError, match="entity type 'MISC'"):
        model.evaluate([["中", "国"]], [["B-MISC", "I-MISC"]])
    with pytest.raises(InputError, match="malformed tag"):
        model.evaluate([["中"]], [["PERSON"]])
    with pytest.raises(InputError, match="2 sentences but 1"):
        model.evaluate([["中"], ["国"]], [["O"]])


def test_fit_input_errors_and_unfitted_model():
    model = BLSTMCRFModel(BareEmbedding(8), lstm_units=4)
    with pytest.raises(NotFittedError):
        model.predict([list("中国")])
    with pytest.raises(NotFittedError):
        model.save("/tmp/never")
    with pytest.raises(InputError, match="training data is empty"):
        model.fit([], [])
    with pytest.raises(InputError, match="sentence 1 is empty"):
        model.fit([["a"], []], [["O"], []])
    with pytest.raises(InputError, match="validation data: sentence 0 is empty"):
        model.fit([["a"]], [["O"]], x_validate=[[]], y_validate=[[]])
    with pytest.raises(InputError, match="validation data: tags are required"):
        model.fit([["a"]], [["O"]], x_validate=[["a"]])
    assert not model.is_fitted  # nothing was built from the rejected calls
    with pytest.raises(TagSchemeError):
        BLSTMCRFModel(tag_scheme="IOB1")
    with pytest.raises(ConfigError, match="Embedding"):
        BLSTMCRFModel("bert-base-chinese")


@pytest.mark.parametrize("factory, message", [
    (lambda: BLSTMCRFModel(lstm_units=0), "lstm_units"),
    (lambda: BLSTMCRFModel(lstm_layers=-1), "lstm_layers"),
    (lambda: BLSTMCRFModel(lstm_units=1.5), "lstm_units"),
    (lambda: BLSTMCRFModel(head="crf2"), "head"),
    (lambda: BLSTMCRFModel(dropout=1.0), "dropout"),
    (lambda: BLSTMCRFModel(recurrent_dropout=-0.1), "recurrent_dropout"),
    (lambda: BLSTMCRFModel(learning_rate=0), "learning_rate"),
    (lambda: BLSTMCRFModel(mixed_precision="float16"), "mixed_precision"),
    (lambda: BareEmbedding(embedding_dim=0), "embedding_dim"),
    (lambda: BareEmbedding(bigram_dim=-1), "bigram_dim"),
    (lambda: BareEmbedding(min_count=0), "min_count"),
    (lambda: BareEmbedding(token_unit="byte"), "token_unit"),
    (lambda: BareEmbedding(token_dropout=1.0), "token_dropout"),
    (lambda: BareEmbedding(lexicon_max_length=1), "lexicon_max_length"),
    (lambda: BareEmbedding(max_vocab_size=1), "max_vocab_size"),
])
def test_every_bad_constructor_argument_is_a_config_error_at_construction(factory, message):
    """One error policy (docs/api.md): a bad argument fails when the object is built, with
    ConfigError naming the argument, not later when the network is built."""
    with pytest.raises(ConfigError, match=message):
        factory()


def test_bioes_and_bio_training_data_agree_and_early_stopping_monitors_val_f1(msra):
    x, y = msra[0][:600], msra[1][:600]
    y_bioes = [convert_tags(t, "BIO", "BIOES") for t in y]
    models = []
    for data in (y, y_bioes):
        model = BLSTMCRFModel(BareEmbedding(16), lstm_units=16, seed=3, tag_scheme="BIO")
        stop = keras.callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=5)
        history = model.fit(x, data, x_validate=msra[2][:50], y_validate=msra[3][:50], epochs=2, batch_size=32,
                            callbacks=[stop], verbose=0)
        assert "val_f1" in history.history and "val_loss" in history.history
        models.append(model)
    assert models[0].data_scheme == "BIO" and models[1].data_scheme == "BIOES"
    sample = msra[2][:100]
    assert models[0].predict(sample, tag_scheme="BIO") == models[1].predict(sample, tag_scheme="BIO")
    # Predictions come back in each model's data scheme: BIOES for the second, the same entities.
    bioes = models[1].predict(sample)
    assert all(is_valid(tags, "BIOES") for tags in bioes)
    assert bioes == [convert_tags(tags, "BIO", "BIOES") for tags in models[0].predict(sample)]


def test_unknown_tokens_and_min_count(msra):
    x, y = msra[0][:200], msra[1][:200]
    model = BLSTMCRFModel(BareEmbedding(8, min_count=2), lstm_units=4, seed=0)
    model.fit(x, y, epochs=1, verbose=0)
    vocab = model.embedding.vocab
    assert vocab.tokens[:2] == ["<pad>", "<unk>"]
    assert len(model.predict([["\U0001F600", "中"]])[0]) == 2  # unseen token maps to <unk>
    with pytest.raises(InputError, match="unknown to this model"):
        model.fit([["a"]], [["B-MISC"]], epochs=1, verbose=0)


def test_word_level_model_splits_raw_strings_on_whitespace():
    x = [["John", "lives", "in", "Paris"], ["Mary", "visited", "Berlin"]] * 20
    y = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "B-LOC"]] * 20
    model = BLSTMCRFModel(BareEmbedding(16), lstm_units=16, seed=0, learning_rate=1e-2)
    model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    assert model.embedding.token_unit == "word"
    text = "John  lives in Paris"
    entities = model.predict_entities([text])[0]
    assert [(e.type, e.text) for e in entities] == [("PER", "John"), ("LOC", "Paris")]
    assert text[entities[1].start:entities[1].end] == "Paris"


def test_bigram_features_train_save_and_load(msra, tmp_path):
    x, y = msra[0][:800], msra[1][:800]
    model = BLSTMCRFModel(BareEmbedding(16, bigram_dim=8, bigram_min_count=2), lstm_units=16, seed=0)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    encoder = model.embedding.encoder
    assert encoder.channels == 2 and len(encoder.bigram_vocab) > 100
    assert model.network.embedding.bigrams.embeddings.shape == (len(encoder.bigram_vocab), 8)
    sample = msra[2][:100]
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "bigram_vocab.json").is_file()
    assert BLSTMCRFModel.load(tmp_path / "m").predict(sample) == model.predict(sample)
    assert model.predict(sample[:20], batch_size=20) == [model.predict([s])[0] for s in sample[:20]]


def test_scores_entities_confidence_and_nbest(trained, msra):
    model, _ = trained
    sample = msra[2][:60]
    tags, scores = model.predict(sample, return_scores=True)
    assert tags == model.predict(sample)
    for t, s in zip(tags, scores):
        assert len(s) == len(t) and all(0.0 < p <= 1.0 + 1e-9 for p in s)
    nbest = model.predict_nbest(sample, n=3)
    for best, plain in zip(nbest, tags):
        assert best[0][0] == plain  # the best of the n-best is the Viterbi path
        probs = [p for _, p in best]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-9
        assert len({tuple(t) for t, _ in best}) == len(best)
    # The Viterbi path's probability never exceeds any of its token marginals.
    for b, s in zip(nbest, scores):
        assert b[0][1] <= min(s) + 1e-6
    entities = model.predict_entities(["".join(x) for x in sample])
    confidences = [e.confidence for sentence in entities for e in sentence]
    assert confidences and all(0.0 <= c <= 1.0 for c in confidences)
    with pytest.raises(InputError, match="at least 1"):
        model.predict_nbest(sample, n=0)


def test_token_dropout_trains_and_is_off_at_prediction(msra):
    model = BLSTMCRFModel(BareEmbedding(16, token_dropout=0.3), lstm_units=16, seed=0)
    model.fit(msra[0][:300], msra[1][:300], epochs=1, batch_size=32, verbose=0)
    assert model.network.embedding.token_dropout == 0.3
    sample = msra[2][:50]
    assert model.predict(sample) == model.predict(sample)  # no randomness at prediction time
    with pytest.raises(ValueError, match="token_dropout"):
        BareEmbedding(16, token_dropout=1.0)


def test_continued_training_accepts_another_scheme_but_not_new_types(trained, msra, tmp_path):
    model, _ = trained
    model.save(tmp_path / "m")
    clone = BLSTMCRFModel.load(tmp_path / "m")
    bioes = [convert_tags(t, "BIO", "BIOES") for t in msra[1][4000:4100]]
    clone.fit(msra[0][4000:4100], bioes, epochs=1, verbose=0)
    assert clone.data_scheme == "BIO"  # still answers in the scheme of the first training data
    with pytest.raises(InputError, match="unknown to this model"):
        clone.fit([["a", "b"]], [["B-MISC", "I-MISC"]], epochs=1, verbose=0)


def test_batches_of_one_token_sentences_decode_and_train(trained, tmp_path):
    # Regression: the in-graph Viterbi scanned zero steps when a batch's longest sentence had
    # one token (a dynamic time axis cannot stack an empty scan).
    model, _ = trained
    single = [["张"], ["北"], ["京"]]
    tags = model.predict(single)
    assert [len(t) for t in tags] == [1, 1, 1]
    assert tags == [model.predict([s])[0] for s in single]
    assert tags == model.predict(single, return_scores=True)[0]  # the numpy Viterbi agrees
    copy = BLSTMCRFModel.load(model.save(tmp_path / "copy"))  # train a copy: the fixture is shared
    history = copy.fit(single, [["B-PER"], ["B-LOC"], ["O"]], epochs=1, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
