"""Token feature ids: the batched encoder gives exactly the per-sentence ids."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.core.features import SEPARATOR, Lexicon, TokenEncoder, bigrams
from bilstm_crf_ner.core.vocab import Vocabulary

# Single characters (some beyond the code-point table, one the bigram separator), longer and empty tokens.
CHARS = ["a", "b", "中", "国", "\U00030001", "\U0001F600", SEPARATOR, " "]
TOKENS = st.sampled_from(CHARS + ["ab", "", "</s>"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CHARS), max_size=8), min_size=1, max_size=5),
       st.lists(st.lists(TOKENS, max_size=8), max_size=5),
       st.booleans(), st.booleans())
def test_encode_many_equals_encode(train, sentences, with_bigrams, with_lexicon):
    vocab = Vocabulary.build(train)
    bigram_vocab = Vocabulary.build([bigrams(s) for s in train]) if with_bigrams else None
    lexicon = Lexicon({"中国": "ns", "ab": "x", "a\U00030001b": "y"}) if with_lexicon else None
    encoder = TokenEncoder(vocab, bigram_vocab, lexicon)
    encoder.batched_from_tokens = 0  # the batched paths even for these small batches
    if lexicon is not None:
        lexicon.batched_from_tokens = 0
    for batch in (sentences, [[t for t in s if len(t) == 1 and t != SEPARATOR] for s in sentences]):
        many = encoder.encode_many(batch)
        assert len(many) == len(batch)
        for tokens, ids in zip(batch, many):
            single = encoder.encode(tokens)
            assert ids.dtype == single.dtype == np.int32
            assert ids.shape == single.shape and ids.tolist() == single.tolist()
