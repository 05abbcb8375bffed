"""Pretrained token vectors (word2vec text format) for BareEmbedding."""

from collections import Counter, defaultdict

import numpy as np
import pytest

from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, ConfigError, CorpusFormatError
from bilstm_crf_ner.corpus.vectors import read_word2vec


def _write(path, rows, header=True):
    lines = [f"{len(rows)} {len(rows[0][1])}"] if header else []
    lines += [token + " " + " ".join(f"{v:.6f}" for v in vector) for token, vector in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reader_and_its_errors(tmp_path):
    good = _write(tmp_path / "v.txt", [("北", [0.5, 1.0]), ("京", [2.0, -1.0]), ("北", [9.0, 9.0])], header=False)
    tokens, vectors = read_word2vec(good)
    assert tokens == ["北", "京"] and vectors.tolist() == [[0.5, 1.0], [2.0, -1.0]]  # first of a repeat wins
    assert read_word2vec(good, keep=lambda t: t == "京")[0] == ["京"]
    bad = tmp_path / "bad.txt"
    bad.write_text("2 2\n北 0.1 0.2\n京 0.1\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"bad.txt:3: expected a token and 2 numbers"):
        read_word2vec(bad)
    bad.write_text("北 0.1 x\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r":1: a vector value is not a number"):
        read_word2vec(bad)


def test_vectors_start_the_table_and_extend_the_vocabulary(tmp_path, msra):
    rng = np.random.default_rng(0)
    rows = [(t, rng.normal(size=8)) for t in ["中", "国", "鑫"]]  # "鑫" is not in this training slice
    path = _write(tmp_path / "v.txt", rows)
    x, y = msra[0][:50], msra[1][:50]
    assert "鑫" not in {t for s in x for t in s}
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=8, pretrained_vectors=path), lstm_units=8)
    model.fit(x[:1], y[:1], epochs=0, verbose=0)  # builds the vocabulary and network only
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=8, pretrained_vectors=path), lstm_units=8)
    model.fit(x, y, epochs=0, verbose=0)  # vocabulary and network from all 50 sentences
    table = model.network.embedding.tokens.embeddings.numpy()
    vocab = model.embedding.vocab
    for token, vector in rows:
        assert token in vocab
        np.testing.assert_allclose(table[vocab.encode([token])[0]], vector, rtol=1e-5)
    with pytest.raises(ConfigError, match="holds 8-d vectors but embedding_dim is 16"):
        BLSTMCRFModel(BareEmbedding(embedding_dim=16, pretrained_vectors=path)).fit(x, y, epochs=1, verbose=0)
    narrow = BareEmbedding(embedding_dim=8, pretrained_vectors=path, pretrained_extend_vocab=False)
    narrow.build_vocab(x)
    assert "鑫" not in narrow.vocab and "中" in narrow.vocab


def test_informative_vectors_help_a_small_training_set(tmp_path, msra):
    """Vectors that carry each character's tag distribution over the whole training file (a stand-in
    for embeddings pretrained on a large corpus) must beat random starts on a 1,000-sentence budget."""
    counts = defaultdict(Counter)
    for sentence, tags in zip(msra[0], msra[1]):
        for token, tag in zip(sentence, tags):
            counts[token][tag] += 1
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    rng = np.random.default_rng(0)
    rows = []
    for token, c in counts.items():
        total = sum(c.values())
        rows.append((token, np.concatenate([[4 * c[t] / total for t in labels], rng.normal(scale=0.05, size=9)])))
    path = _write(tmp_path / "chars.vec", rows)
    scores = {}
    for name, vectors in (("pretrained", path), ("random", None)):
        model = BLSTMCRFModel(BareEmbedding(embedding_dim=16, pretrained_vectors=vectors), lstm_units=32,
                              learning_rate=5e-3, seed=5)
        model.fit(msra[0][:1000], msra[1][:1000], epochs=3, batch_size=16, verbose=0)
        scores[name] = model.evaluate(msra[2][:500], msra[3][:500]).f1
    assert scores["pretrained"] > scores["random"] + 0.08, scores  # measured 0.33 vs 0.19
