"""Lexicon features: dictionary matches as extra id channels, in Keras, save/load and export."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, ConfigError, CorpusFormatError, ModelLoadError
from bilstm_crf_ner.core.features import Lexicon, read_lexicon
from bilstm_crf_ner.core.features import lexicon as lexicon_module
from bilstm_crf_ner.core.features.codes import code_points
from conftest import compiled_or_numpy


def walk(matcher):
    """Match with the compiled walk or numpy's."""
    return compiled_or_numpy(lexicon_module, "compiled_walk", matcher)


def brute_force(words, tokens, max_length):
    """For each position and B/M/E, the type of the longest matching word (reference)."""
    types = sorted(set(words.values()))
    out = np.ones((len(tokens), 3), np.int64)
    best = np.zeros((len(tokens), 3), np.int64)
    for start in range(len(tokens)):
        for stop in range(start + 2, min(len(tokens), start + max_length) + 1):
            kind = words.get("".join(tokens[start:stop]))
            if kind is None:
                continue
            for position, column in [(start, 0), *((p, 1) for p in range(start + 1, stop - 1)), (stop - 1, 2)]:
                if stop - start > best[position, column]:
                    best[position, column], out[position, column] = stop - start, 2 + types.index(kind)
    return out


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text("abc", min_size=1, max_size=5), st.sampled_from(["x", "y"]), max_size=12),
       st.lists(st.sampled_from("abc"), max_size=12))
def test_matches_equal_brute_force(words, tokens):
    lexicon = Lexicon(words, max_length=4)
    kept = {w: t for w, t in words.items() if 2 <= len(w) <= 4}
    assert lexicon.words == kept
    if kept:  # same type ids when the type inventory is the same
        assert lexicon.encode(tokens).tolist() == brute_force(kept, tokens, 4).tolist()


def slicing_reference(lexicon, tokens):
    """The straightforward matcher: try every span length at every position on joined slices."""
    n = len(tokens)
    out, taken = np.ones((n, 3), np.int64), np.zeros((n, 3), np.int64)
    lengths = sorted({len(w.split(" ")) if lexicon.joiner else len(w) for w in lexicon.words}, reverse=True)
    for start in range(n):
        for length in lengths:
            stop = start + length
            kind = lexicon.words.get(lexicon.joiner.join(tokens[start:stop])) if stop <= n else None
            if kind is None:
                continue
            type_id = lexicon.types.encode([kind])[0]
            for position, column in [(start, 0), *((p, 1) for p in range(start + 1, stop - 1)), (stop - 1, 2)]:
                if length > taken[position, column]:
                    taken[position, column], out[position, column] = length, type_id
    return out


pieces = st.sampled_from(["a", "b", "c", "ab", "bc", "a b", "😀", "", "中国"])


@pytest.mark.parametrize("matcher", ["compiled", "numpy"])
@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["", " "]), st.integers(2, 5),
       st.dictionaries(st.lists(pieces, min_size=1, max_size=4).map(tuple), st.sampled_from(["x", "y", "z"]), max_size=15),
       st.lists(st.lists(pieces, max_size=10), max_size=4))
def test_batched_matching_equals_slicing_on_any_tokens(matcher, joiner, max_length, word_parts, sentences):
    """Multi-character, empty and non-BMP tokens, both joiners, several sentences at once; the
    compiled walk and numpy's."""
    words = {joiner.join(parts): kind for parts, kind in word_parts.items()}
    lexicon = Lexicon(words, max_length=max_length, joiner=joiner)
    lexicon.batched_from_tokens = 0  # the vectorised walk even for these small batches
    with walk(matcher):
        batch = lexicon.encode_many(sentences)
        nonempty = [[t for t in tokens if t] for tokens in sentences]  # empty tokens take a slower path
        nonempty_batch = lexicon.encode_many(nonempty)
    assert len(batch) == len(sentences)
    for tokens, ids in zip(sentences, batch):
        assert ids.tolist() == slicing_reference(lexicon, tokens).tolist()
        assert lexicon.encode(tokens).tolist() == ids.tolist()
    for tokens, ids in zip(nonempty, nonempty_batch):
        assert ids.tolist() == slicing_reference(lexicon, tokens).tolist()
    if joiner == "":  # the character encoder's entry: single characters as joined code points
        characters = [list("".join(tokens)) for tokens in sentences]
        with walk(matcher):
            ids = lexicon.encode_characters(code_points("".join(map("".join, characters))), [len(c) for c in characters])
        assert ids.tolist() == [row for tokens in characters for row in slicing_reference(lexicon, tokens).tolist()]


def test_jieba_matching_equals_slicing_on_msra(msra):
    """The real dictionary (349k words) on real sentences, batched as the runtime does, by the
    compiled walk and numpy's."""
    from bilstm_crf_ner.core.features import jieba_dictionary

    lexicon = Lexicon(read_lexicon(jieba_dictionary()))
    sentences = msra[2][:300]
    expected = [slicing_reference(lexicon, tokens).tolist() for tokens in sentences]
    for matcher in ("compiled", "numpy"):
        with walk(matcher):
            assert [ids.tolist() for ids in lexicon.encode_many(sentences)] == expected, matcher
            by_codes = lexicon.encode_characters(code_points("".join(map("".join, sentences))), [len(s) for s in sentences])
            assert by_codes.tolist() == [row for rows in expected for row in rows], matcher
    assert (np.concatenate(lexicon.encode_many(sentences)) > 1).mean() > 0.3  # it does find words


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["", " "]),
       st.dictionaries(st.lists(pieces, min_size=1, max_size=4).map(tuple), st.sampled_from(["x", "y"]), max_size=15),
       st.lists(st.lists(pieces, max_size=10), max_size=4))
def test_saved_arrays_match_like_the_built_lexicon_without_reading_the_words(joiner, word_parts, sentences):
    """A saved encoder keeps the built trie as .npy files; loading maps them and parses no JSON."""
    import tempfile

    from bilstm_crf_ner.core.encoders import load_encoder
    from bilstm_crf_ner.core.features import TokenEncoder
    from bilstm_crf_ner.core.vocab import Vocabulary

    words = {joiner.join(parts): kind for parts, kind in word_parts.items()}
    encoder = TokenEncoder(Vocabulary.build(sentences or [["a"]]), None, Lexicon(words, 4, joiner=joiner),
                           "word" if joiner else "char")
    with tempfile.TemporaryDirectory() as folder:
        description = json.loads(json.dumps(encoder.save(folder)))
        loaded = load_encoder(folder, description).lexicon
        assert loaded._words is None and isinstance(loaded.arrays()["edge_keys"], np.memmap)
        for tokens, ids in zip(sentences, loaded.encode_many(sentences)):
            assert ids.tolist() == slicing_reference(encoder.lexicon, tokens).tolist()
            assert loaded.encode(tokens).tolist() == ids.tolist()
        if all(all(tokens) for tokens in sentences):  # empty tokens are matched by slicing the word list
            assert loaded._words is None
        assert loaded.words == encoder.lexicon.words
        with open(f"{folder}/lexicon.json", "w") as handle:
            json.dump(dict(encoder.lexicon.words, extra_word_here="x"), handle)
        with pytest.raises(ModelLoadError, match="arrays were built"):
            load_encoder(folder, description).lexicon.words


def test_jieba_lexicon_loads_from_arrays_without_the_json(tmp_path):
    """The 349k-word dictionary: a saved encoder loads by mapping arrays (the JSON is never parsed)."""
    from bilstm_crf_ner.core.encoders import load_encoder
    from bilstm_crf_ner.core.features import TokenEncoder, jieba_dictionary
    from bilstm_crf_ner.core.vocab import Vocabulary

    encoder = TokenEncoder(Vocabulary.build([list("北京大学")]), None, Lexicon(read_lexicon(jieba_dictionary())))
    description = encoder.save(tmp_path)
    (tmp_path / "lexicon.json").rename(tmp_path / "moved.json")  # proof that loading does not read it
    loaded = load_encoder(tmp_path, description)
    sentence = list("今天北京大学的学生在小米手机发布会上")
    assert np.array_equal(loaded.encode(sentence), encoder.encode(sentence))


def test_read_lexicon_formats_and_errors(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("\ufeff北京 34488 ns\n北京大学 2053 nt\n\n小米手机\n", encoding="utf-8")
    assert read_lexicon(path) == {"北京": "ns", "北京大学": "nt", "小米手机": "w"}
    path.write_bytes(b"ok 1 n\n\xff\xfe bad\n")
    with pytest.raises(CorpusFormatError, match="dict.txt:2"):
        read_lexicon(path)
    with pytest.raises(FileNotFoundError, match="lexicon file not found"):
        read_lexicon(tmp_path / "missing.txt")


def test_lexicon_model_trains_saves_loads_and_exports_exactly(msra, tmp_path):
    train_x, train_y, test_x, _ = msra
    words = {"".join(tokens[s:e]): "ne" for tokens, tags in zip(train_x[:3000], train_y[:3000])
             for s, e in _entity_spans(tags)}  # a lexicon of training entities
    model = BLSTMCRFModel(BareEmbedding(32, bigram_dim=8, lexicon=words, lexicon_dim=4), lstm_units=32, seed=2)
    model.fit(train_x[:800], train_y[:800], epochs=1, batch_size=32, verbose=0)
    assert model.network.get_layer("token_embedding").lexicon_dim == 4
    ids = model.embedding.encode(list("在北京"))
    assert ids.shape == (3, 5) and ids[1:, 2:].max() >= 2  # 北京 is a training entity
    sentences = test_x[:120]
    expected = model.predict(sentences)
    loaded = BLSTMCRFModel.load(model.save(tmp_path / "m"))
    assert loaded.predict(sentences) == expected
    assert loaded.embedding.encoder.lexicon.words == model.embedding.encoder.lexicon.words

    from bilstm_crf_ner.runtime import Tagger

    path = model.export(tmp_path / "ir", measure=False)
    assert json.loads((path / "metadata.json").read_text())["tokenizer"]["lexicon"]["words"] == len(
        model.embedding.encoder.lexicon.words)
    for backend in ("onnxruntime", "openvino"):
        assert Tagger.load(path, backend=backend).predict(sentences) == expected


def test_lexicon_without_usable_words_is_refused(msra):
    train_x, train_y, _, _ = msra
    model = BLSTMCRFModel(BareEmbedding(16, lexicon={"北": "x"}), lstm_units=8)
    with pytest.raises(ConfigError, match="no words of 2 to 8 tokens"):
        model.fit(train_x[:20], train_y[:20], epochs=1, verbose=0)


def _entity_spans(tags):
    from bilstm_crf_ner.core.tags import spans_from_tags

    return [(start, end) for _, start, end in spans_from_tags(tags, "BIO")]
