"""Training from streams (corpora that need not fit in memory) and streamed length bucketing."""

import numpy as np
import pytest
import tensorflow as tf

from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, InputError
from bilstm_crf_ner.core.batching import stream_batches


class CountingCorpus:
    """A re-iterable corpus that counts the items read in each pass (as a file reader would)."""

    def __init__(self, pairs):
        self.pairs, self.passes = pairs, []

    def __iter__(self):
        self.passes.append(0)
        for pair in self.pairs:
            self.passes[-1] += 1
            yield pair


def test_stream_batches_yield_every_item_once_sorted_within_pools():
    lengths = np.random.default_rng(0).integers(1, 50, size=1000)
    batches = list(stream_batches(iter(range(1000)), lambda i: lengths[i], batch_size=8, rng=np.random.default_rng(1),
                                  pool_batches=10))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert all(len(b) == 8 for b in batches)
    for b in batches:  # each batch comes from one pool of 80 consecutive items, sorted by length
        assert len({i // 80 for i in b}) == 1
        assert [lengths[i] for i in b] == sorted(lengths[i] for i in b)


def test_fit_on_a_stream_reads_it_once_per_epoch_plus_once_and_learns(msra):
    corpus = CountingCorpus(list(zip(msra[0][:3000], msra[1][:3000])))
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=64), lstm_units=64, learning_rate=5e-3, seed=7)
    history = model.fit(corpus, epochs=4, batch_size=32, verbose=0)
    # Vocabulary and tags in one pass, then one pass per epoch. Keras may also peek at the first
    # batch of a new dataset to build its train function, which reads one pool (50 batches) at most.
    assert corpus.passes[0] == 3000 and corpus.passes.count(3000) == 5
    assert all(n <= 50 * 32 for n in corpus.passes if n != 3000)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert model.evaluate(msra[2][:500], msra[3][:500]).f1 > 0.4  # the in-memory run reaches about 0.5
    assert model.data_scheme == "BIO" and len(model.tags) == 1 + 4 * 3  # O + BIOES for PER, LOC, ORG


def test_fit_accepts_a_function_and_a_tf_data_dataset(msra):
    pairs = list(zip(msra[0][:300], msra[1][:300]))
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=16), lstm_units=16, seed=0)
    model.fit(lambda: iter(pairs), epochs=1, batch_size=32, verbose=0)
    dataset = tf.data.Dataset.from_generator(lambda: iter(pairs), output_signature=(
        tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)))
    history = model.fit(dataset, epochs=2, batch_size=32, verbose=0)  # continued training from tf.data
    assert len(history.history["loss"]) == 2
    assert len(model.predict([msra[2][0]])[0]) == len(msra[2][0])


def test_bad_streams_raise_clear_errors(msra):
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=8), lstm_units=8)
    pairs = list(zip(msra[0][:20], msra[1][:20]))
    with pytest.raises(InputError, match="one-shot iterator"):
        model.fit(p for p in pairs)
    with pytest.raises(InputError, match="item 1 has 3 tokens but 2 tags"):
        model.fit([(["a"], ["O"]), (["a", "b", "c"], ["O", "O"])])
    with pytest.raises(InputError, match="item 0 is not a"):
        model.fit([["a", "b", "c"]])
    with pytest.raises(InputError, match="malformed tag 'PER'"):
        model.fit([(["a", "b"], ["O", "PER"])])
    with pytest.raises(InputError, match="item 0 is an empty sentence"):
        model.fit([([], [])])
