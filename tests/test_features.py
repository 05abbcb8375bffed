"""Token feature ids: the batched encoder gives exactly the per-sentence ids."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.core.features import SEPARATOR, Lexicon, TokenEncoder, bigrams
from bilstm_crf_ner.core.vocab import Vocabulary
from conftest import compiled_or_numpy

# Single characters (some beyond the code-point table, one the bigram separator), longer and empty tokens.
CHARS = ["a", "b", "中", "国", "\U00030001", "\U0001F600", SEPARATOR, " "]
TOKENS = st.sampled_from(CHARS + ["ab", "", "</s>"])


def lookups(kind):
    """Character and bigram ids by the compiled loop or numpy's."""
    from bilstm_crf_ner.core.features import token_encoder

    return compiled_or_numpy(token_encoder, "compiled_character_ids", kind)


@pytest.mark.parametrize("kind", ["compiled", "numpy"])
@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CHARS), max_size=8), min_size=1, max_size=5),
       st.lists(st.lists(TOKENS, max_size=8), max_size=5),
       st.booleans(), st.booleans())
def test_encode_many_equals_encode(kind, train, sentences, with_bigrams, with_lexicon):
    vocab = Vocabulary.build(train)
    bigram_vocab = Vocabulary.build([bigrams(s) for s in train]) if with_bigrams else None
    lexicon = Lexicon({"中国": "ns", "ab": "x", "a\U00030001b": "y"}) if with_lexicon else None
    encoder = TokenEncoder(vocab, bigram_vocab, lexicon)
    encoder.batched_from_tokens = 0  # the batched paths even for these small batches
    if lexicon is not None:
        lexicon.batched_from_tokens = 0
    for batch in (sentences, [[t for t in s if len(t) == 1 and t != SEPARATOR] for s in sentences]):
        with lookups(kind):
            many = encoder.encode_many(batch)
        assert len(many) == len(batch)
        for tokens, ids in zip(batch, many):
            single = encoder.encode(tokens)
            assert ids.dtype == single.dtype == np.int32
            assert ids.shape == single.shape and ids.tolist() == single.tolist()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(0, 2**62), st.integers(0, 2**40), max_size=200),
       st.lists(st.integers(0, 2**62), max_size=50))
def test_hash_table_lookups_compiled_and_numpy_equal_a_dict(pairs, absent):
    """Both lookups (numba's, the default with the [fast] extra, and numpy's) give every stored
    key's value and -1 for the rest, on tables rebuilt from their slot arrays too."""
    from bilstm_crf_ner.core.features.hashtable import IntHashTable, compiled_get

    table = IntHashTable(np.array(list(pairs), dtype=np.int64), np.array(list(pairs.values()), dtype=np.int64))
    queries = np.array(list(pairs) + absent, dtype=np.int64)
    expected = [pairs.get(q, -1) for q in queries.tolist()]
    assert compiled_get() is not None
    for lookup in (table.get, table.get_numpy, IntHashTable.from_table(*table.table).get):
        found = lookup(queries)
        assert found.dtype == np.int64 and found.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TOKENS, TOKENS).map(lambda pair: SEPARATOR.join(pair)) | TOKENS, max_size=30, unique=True))
def test_character_bigram_keys_equal_a_loop_over_the_vocabulary(entries):
    """The vectorised bigram table takes exactly the entries of two single characters (or one and
    the end marker), none with a stray separator."""
    from bilstm_crf_ner.core.features.codes import pack
    from bilstm_crf_ner.core.features.token_encoder import END, END_CODE, character_bigram_keys

    expected = {}
    for i, entry in enumerate(entries):
        if entry.count(SEPARATOR) == 1:
            a, b = entry.split(SEPARATOR)
            if len(a) == 1 and (len(b) == 1 or b == END):
                expected[pack(ord(a), END_CODE if b == END else ord(b))] = i
    keys, ids = character_bigram_keys(entries)
    assert dict(zip(keys.tolist(), ids.tolist())) == expected and len(keys) == len(expected)


TEXT_CHARS = st.sampled_from(CHARS + ["\u3000", "\t", "\n", "\xa0", "国"])


@pytest.mark.parametrize("kind", ["compiled", "numpy"])
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(TEXT_CHARS, max_size=12), max_size=6), st.booleans(), st.booleans(), st.booleans())
def test_encode_texts_equals_tokenize_then_encode(kind, texts, with_bigrams, with_lexicon, batched):
    """Raw strings straight to ids (whitespace of every kind dropped, rare and separator
    characters, empty texts) give what tokenizing then encoding gives."""
    train = [list("ab中国"), ["\U00030001", "a"]]
    vocab = Vocabulary.build(train)
    bigram_vocab = Vocabulary.build([bigrams(s) for s in train]) if with_bigrams else None
    lexicon = Lexicon({"中国": "ns", "ab": "x", "a\U00030001b": "y"}) if with_lexicon else None
    encoder = TokenEncoder(vocab, bigram_vocab, lexicon)
    if batched:
        encoder.batched_from_tokens = 0
        if lexicon is not None:
            lexicon.batched_from_tokens = 0
    expected = [encoder.encode(encoder.tokenize(text)[0]) for text in texts]
    with lookups(kind):
        got = encoder.encode_texts(texts)
    assert len(got) == len(texts)
    for ids, want in zip(got, expected):
        assert ids.dtype == np.int32 and ids.tolist() == want.tolist()


def test_space_table_is_str_isspace():
    from bilstm_crf_ner.core.text import SPACE_LIMIT, space_table

    table = space_table()
    assert [c for c in range(SPACE_LIMIT) if table[c]] == [c for c in range(0x110000) if chr(c).isspace()]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(TEXT_CHARS, max_size=40), max_size=8), st.sampled_from([1, 3, 64]))
def test_predict_on_strings_encodes_texts_and_tags_as_token_lists(texts, batch_size):
    """``predict`` on raw strings goes straight from text to ids (TextEncoder) and gives the tags
    the token lists of the same strings get (through the general path)."""
    from bilstm_crf_ner.core.decoding import constrain
    from bilstm_crf_ner.core.predictor import EmissionScorer, Predictor, TextEncoder
    from bilstm_crf_ner.core.tags import allowed_transitions, tag_inventory

    tags = tag_inventory(["LOC"], "BIOES")
    rng = np.random.default_rng(0)
    table, params = rng.normal(size=(64, len(tags))).astype(np.float32), rng.normal(size=(len(tags), len(tags)))

    class Scorer(EmissionScorer):  # emissions from each token's ids: bigram and lexicon ids matter too
        def emissions(self, ids):
            return table[ids % 64].sum(axis=2).astype(np.float32)

        def crf_scores(self):
            return constrain(params, np.zeros(len(tags)), np.zeros(len(tags)), allowed_transitions(tags, "BIOES"))

    train = [list("ab中国"), ["\U00030001", "a"]]
    encoder = TokenEncoder(Vocabulary.build(train), Vocabulary.build([bigrams(s) for s in train]),
                           Lexicon({"中国": "ns", "ab": "x"}))
    encoder.batched_from_tokens = 0
    assert isinstance(encoder, TextEncoder)
    predictor = Predictor(encoder, Scorer(), tags, "BIOES", "BIO")
    calls = []
    encode_texts = encoder.encode_texts
    encoder.encode_texts = lambda x: calls.append(x) or encode_texts(x)
    got = predictor.predict(texts, batch_size=batch_size)
    assert calls == [texts]
    assert got == predictor.predict([encoder.tokenize(t)[0] for t in texts], batch_size=batch_size)
    assert [len(t) for t in got] == [len(encoder.tokenize(t)[0]) for t in texts]
