"""Span-annotated corpora: every format read from a hand-written file, its errors, round trips
(hypothesis), span <-> tag conversion, and the CLI on span files with a small trained model."""

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.core.errors import CorpusFormatError, InputError
from bilstm_crf_ner.core.tags import is_valid
from bilstm_crf_ner.core.text import char_tokens, word_tokens
from bilstm_crf_ner.corpus import (
    Span, align_spans, detect_format, dumps_spans, read_spans, spans_to_tags, tags_to_spans, write_spans,
)
from bilstm_crf_ner.corpus.spans import FORMATS

TEXT = "张三在北京 visited 😀New York\r\n𠀀bc"
# 张三 PER [0, 2); 北京 LOC [3, 5); New York LOC [15, 23) (a space inside); 𠀀b ORG [25, 27)
SPANS = [Span(0, 2, "PER"), Span(3, 5, "LOC"), Span(15, 23, "LOC"), Span(25, 27, "ORG")]
TEXT2 = "没有实体"


def test_example_text_is_what_the_comments_say():
    assert [TEXT[s.start:s.end] for s in SPANS] == ["张三", "北京", "New York", "𠀀b"]


def write(path, content):
    path.write_bytes(content.encode("utf-8"))
    return path


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False)


# ---- one hand-written file per format -------------------------------------------------------

def doccano_file(tmp_path):
    lines = [dumps({"id": 1, "text": TEXT, "label": [[15, 23, "LOC"], [0, 2, "PER"], [3, 5, "LOC"], [25, 27, "ORG"]]}),
             dumps({"id": 2, "text": TEXT2, "label": []})]
    return write(tmp_path / "admin.jsonl", "\n".join(lines) + "\n")


def label_studio_file(tmp_path):
    def region(i, start, end, label, text=TEXT):
        return {"id": f"r{i}", "from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}

    tasks = [
        {"id": 7, "data": {"text": TEXT}, "annotations": [
            {"id": 1, "was_cancelled": False, "updated_at": "2026-01-01T10:00:00Z", "result": [region(0, 0, 2, "ORG")]},
            {"id": 2, "was_cancelled": False, "updated_at": "2026-01-02T10:00:00Z",
             "result": [region(1, 0, 2, "PER"), region(2, 3, 5, "LOC"), region(3, 15, 23, "LOC"), region(4, 25, 27, "ORG"),
                        {"id": "c", "from_name": "mood", "to_name": "text", "type": "choices",
                         "value": {"choices": ["happy"]}}]},
            {"id": 3, "was_cancelled": True, "updated_at": "2026-01-03T10:00:00Z", "result": []}],
         "predictions": [{"model_version": "old", "result": [region(5, 0, 1, "PER")]}]},
        {"id": 8, "data": {"text": TEXT2}, "annotations": [{"id": 4, "result": []}]},
        {"id": 9, "data": {"text": "只有预测"}, "predictions": [
            {"model_version": "m", "score": 0.5, "result": [region(6, 0, 2, "PER", "只有预测")]}]},
        {"id": 10, "data": {"text": "没有标注"}},
    ]
    return write(tmp_path / "export.json", json.dumps(tasks, ensure_ascii=False, indent=2))


def cluener_file(tmp_path):
    lines = [dumps({"text": TEXT, "label": {"PER": {"张三": [[0, 1]]}, "LOC": {"北京": [[3, 4]], "New York": [[15, 22]]},
                                            "ORG": {"𠀀b": [[25, 26]]}}}),
             dumps({"text": TEXT2, "label": {}})]
    return write(tmp_path / "cluener.json", "\n".join(lines) + "\n")


def brat_folder(tmp_path):
    folder = tmp_path / "brat"
    folder.mkdir()
    with open(folder / "a.txt", "w", encoding="utf-8", newline="") as handle:
        handle.write(TEXT)
    (folder / "a.ann").write_text("T1\tPER 0 2\t张三\nT2\tLOC 3 5\t北京\n#1\tAnnotatorNotes T1\ta note\n"
                                  "T3\tLOC 15 23\tNew York\nR1\tLives Arg1:T1 Arg2:T2\nT4\tORG 25 27\t𠀀b\n", encoding="utf-8")
    (folder / "b.txt").write_text(TEXT2, encoding="utf-8")
    (folder / "b.ann").write_text("", encoding="utf-8")
    return folder


def jsonl_file(tmp_path):
    lines = [dumps({"text": TEXT, "entities": [{"type": s.type, "start": s.start, "end": s.end,
                                                "text": TEXT[s.start:s.end], "confidence": 0.9} for s in SPANS]}),
             dumps({"text": TEXT2, "entities": []})]
    return write(tmp_path / "pred.jsonl", "\r\n".join(lines) + "\r\n")  # Windows line ends between records


EXAMPLES = {"doccano": doccano_file, "label-studio": label_studio_file, "cluener": cluener_file, "brat": brat_folder,
            "jsonl": jsonl_file}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_format_reads_its_example_and_is_detected(name, tmp_path, caplog):
    path = EXAMPLES[name](tmp_path)
    assert detect_format(path) == name
    with caplog.at_level(logging.INFO, logger="bilstm_crf_ner.corpus.spans"):
        texts, entities = read_spans(path)
    if name == "label-studio":  # latest live annotation; prediction-only task read; unlabelled task skipped
        assert texts == [TEXT, TEXT2, "只有预测"]
        assert entities == [SPANS, [], [(0, 2, "PER")]]
        assert "1 task(s) without an annotation" in caplog.text
    else:
        assert texts == [TEXT, TEXT2]
        assert entities == [SPANS, []]
    assert all(isinstance(s, Span) for s in entities[0])
    summary = [r.getMessage() for r in caplog.records if "records" in r.getMessage()]
    per_type = "LOC 2, ORG 1, PER 2" if name == "label-studio" else "LOC 2, ORG 1, PER 1"
    assert summary and f"({name}): {len(texts)} records, " in summary[-1] and per_type in summary[-1]


def test_label_studio_from_name_and_text_key(tmp_path):
    tasks = [{"data": {"body": "张三"}, "annotations": [{"result": [
        {"from_name": "ner", "to_name": "body", "type": "labels", "value": {"start": 0, "end": 2, "labels": ["PER"]}},
        {"from_name": "other", "to_name": "body", "type": "labels", "value": {"start": 0, "end": 1, "labels": ["X"]}}]}]}]
    path = write(tmp_path / "t.json", json.dumps(tasks))
    assert read_spans(path, text_key="body", from_name="ner") == (["张三"], [[(0, 2, "PER")]])
    with pytest.raises(CorpusFormatError, match=r"t\.json:task 1: task has no text at data\['text'\]"):
        read_spans(path)
    with pytest.raises(CorpusFormatError, match="overlapping"):
        read_spans(path, text_key="body")  # both controls: nested spans


def test_types_may_have_spaces_but_not_in_brat(tmp_path):
    tasks = [{"data": {"text": "iPhone 15"}, "annotations": [{"result": [
        {"type": "labels", "value": {"start": 0, "end": 9, "text": "iPhone 15", "labels": ["Product Name"]}}]}]}]
    path = write(tmp_path / "t.json", json.dumps(tasks))
    texts, entities = read_spans(path)
    assert entities == [[(0, 9, "Product Name")]]
    with pytest.raises(ValueError, match="BRAT entity types cannot contain spaces"):
        write_spans(tmp_path / "brat", texts, entities, format="brat")
    with pytest.raises(CorpusFormatError, match="without tabs or line breaks"):
        read_spans(write(tmp_path / "d.jsonl", '{"text": "ab", "label": [[0, 1, "A\\tB"]]}\n'))


# ---- errors: file and record named, nothing dropped silently ---------------------------------

def test_brat_discontinuous_span_refused_with_file_and_line(tmp_path):
    folder = brat_folder(tmp_path)
    (folder / "b.ann").write_text("T1\tLOC 0 1\t没\nT2\tORG 0 1;2 3\t没 实\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"b\.ann:2: discontinuous span T2 ORG 0 1;2 3") as info:
        read_spans(folder)
    assert info.value.line_number == 2 and info.value.path.endswith("b.ann")


@pytest.mark.parametrize("name, content, message", [
    ("doccano", '{"text": "abc", "label": [[0, 2, "X"]]}\n{"text": "abc", "label": [[1, 4, "X"]]}\n',
     r"bad\.jsonl:2: span \[1, 4\) of type X is out of range for a text of 3 characters"),
    ("doccano", '{"text": "abc", "label": [[0, 2, "X"]]}\n\n{"txt": "abc", "labels": []}\n',
     r"bad\.jsonl:3: record has no 'text' key \(keys: 'txt', 'labels'\)"),
    ("doccano", '{"text": "abc", "label": [[0, 2]]}\n', r"bad\.jsonl:1: each label must be \[start, end, type\]"),
    ("doccano", '{"text": "abc", "label": [[0, 2, "X"]]\n', r"bad\.jsonl:1: not valid JSON"),
    ("doccano", '{"text": "abc", "label": [[2, 2, "X"]]}\n', r"bad\.jsonl:1: span \[2, 2\)"),
    ("doccano", '{"text": "abc", "label": [["0", 2, "X"]]}\n', r"bad\.jsonl:1: span offsets must be integers"),
    ("jsonl", '{"text": "abc", "entities": [{"start": 0, "end": 2, "type": "X", "text": "ac"}]}\n',
     r"bad\.jsonl:1: span \[0, 2\) of type X covers 'ab' but the file stores 'ac'"),
    ("jsonl", '{"text": "abc", "entities": [{"start": 0, "type": "X"}]}\n', r"bad\.jsonl:1: entity .* lacks end"),
    ("jsonl", '{"tokens": ["a"], "entities": []}\n', r"bad\.jsonl:1: a 'tokens' record has token indices"),
    ("cluener", '{"text": "叶老桂说", "label": {"name": {"叶老": [[0, 2]]}}}\n',
     r"bad\.jsonl:1: span \[0, 3\) of type name covers '叶老桂' but the file stores '叶老'"),
    ("cluener", '{"text": "叶老桂说"}\n', r"bad\.jsonl:1: record has no 'label' key \(keys: 'text'\)"),
    ("label-studio", '[{"data": {"text": "abc"}, "annotations": [{"result": [{"type": "labels", "value": '
                     '{"start": 0, "end": 2, "text": "ab", "labels": ["X"]}}]}]}, {"data": {"text": "abc"}, '
                     '"annotations": [{"result": [{"id": "r9", "type": "labels", "value": {"start": 0, "labels": ["X"]}}]}]}]',
     r"bad\.jsonl:task 2: result 'r9': value needs start, end and labels \(keys: 'start', 'labels'\)"),
    ("label-studio", '[{"id": 5, "data": {"text": "abc"}, "annotations": [{"result": [{"type": "labels", "value": '
                     '{"start": 1, "end": 3, "text": "ab", "labels": ["X"]}}]}]}]',
     r"bad\.jsonl:task 1 \(id 5\): span \[1, 3\) of type X covers 'bc' but the file stores 'ab'"),
])
def test_malformed_records_name_file_and_record(tmp_path, name, content, message):
    path = write(tmp_path / "bad.jsonl", content)
    with pytest.raises(CorpusFormatError, match=message):
        read_spans(path, format=name)


def test_brat_surface_mismatch_and_missing_text(tmp_path):
    folder = brat_folder(tmp_path)
    (folder / "b.ann").write_text("T1\tLOC 0 2\t没实\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"b\.ann:1: span \[0, 2\) of type LOC covers '没有'"):
        read_spans(folder)
    (folder / "b.txt").unlink()
    with pytest.raises(FileNotFoundError, match="b.txt"):
        read_spans(folder)


def test_overlaps_refused_by_default_longest_on_request(tmp_path, caplog):
    path = write(tmp_path / "o.jsonl", dumps({"text": "ok", "label": []}) + "\n" +
                 dumps({"text": "北京大学在北京", "label": [[0, 2, "LOC"], [0, 4, "ORG"], [5, 7, "LOC"]]}) + "\n")
    with pytest.raises(CorpusFormatError, match=r"o\.jsonl:2: overlapping or nested spans \(0, 2, 'LOC'\) and "
                                                r"\(0, 4, 'ORG'\)"):
        read_spans(path)
    with caplog.at_level(logging.WARNING, logger="bilstm_crf_ner.corpus.spans"):
        texts, entities = read_spans(path, overlaps="longest")
    assert entities[1] == [(0, 4, "ORG"), (5, 7, "LOC")]
    assert "o.jsonl:2: kept the longest of overlapping spans, dropped 1: (0, 2, 'LOC')" in caplog.text


def test_undetectable_file_and_unknown_format(tmp_path):
    path = write(tmp_path / "x.json", '{"foo": 1}\n')
    with pytest.raises(CorpusFormatError, match="cannot tell the span format"):
        read_spans(path)
    with pytest.raises(ValueError, match="unknown span format"):
        read_spans(path, format="spacy")
    doccano = doccano_file(tmp_path)
    with pytest.raises(TypeError, match="format 'doccano' takes no option text_key"):
        read_spans(doccano, format="doccano", text_key="body")
    single = write(tmp_path / "task.json", json.dumps({"data": {"text": "张三"}, "predictions": [{"result": []}]}, indent=2))
    assert detect_format(single) == "label-studio" and read_spans(single) == (["张三"], [[]])
    folder = brat_folder(tmp_path)
    assert detect_format(folder / "a.txt") == "brat" and read_spans(folder / "a.txt") == ([TEXT], [SPANS])
    assert detect_format(tmp_path) is None  # a folder without .ann files (the CLI reads it as MSRA)


# ---- writing ------------------------------------------------------------------------------

def test_writers_are_atomic_and_brat_refuses_a_foreign_folder(tmp_path, monkeypatch):
    path = tmp_path / "out.jsonl"
    write_spans(path, [TEXT], [SPANS], format="doccano")
    before = path.read_bytes()
    import bilstm_crf_ner.corpus.spans.doccano as doccano

    monkeypatch.setattr(doccano, "render", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_spans(path, [TEXT], [SPANS], format="doccano")
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
    other = tmp_path / "data"
    other.mkdir()
    (other / "model.keras").write_text("precious")
    with pytest.raises(FileExistsError, match="not replacing"):
        write_spans(other, [TEXT], [SPANS], format="brat")
    with pytest.raises(InputError, match="out of range"):
        write_spans(path, ["ab"], [[(1, 3, "X")]], format="jsonl")


def test_entities_with_confidence_are_written_as_predictions(tmp_path):
    from bilstm_crf_ner.core.entities import Entity

    entities = [[Entity("PER", 0, 2, "张三", 0.9), Entity("LOC", 3, 5, "北京", 0.6)]]
    tasks = json.loads(dumps_spans(["张三在北京"], entities, "label-studio", model_version="v2"))
    prediction = tasks[0]["predictions"][0]
    assert prediction["model_version"] == "v2" and prediction["score"] == 0.6
    assert [r["score"] for r in prediction["result"]] == [0.9, 0.6]
    line = json.loads(dumps_spans(["张三在北京"], entities, "jsonl"))
    assert line["entities"][0] == {"start": 0, "end": 2, "type": "PER", "text": "张三", "confidence": 0.9}


# ---- round trips (hypothesis) ---------------------------------------------------------------

PIECES = ["a", "B", "z", "9", "张", "京", "é", "😀", "👍🏽", "𠀀", "𝔘", " ", "  ", "\t", "\n", "\r\n", "\u3000", "\xa0", "-",
          '"', "\\", "\u2028", "\x85"]
TYPES = ["PER", "LOC", "ORG_2", "类型"]


@st.composite
def texts_and_spans(draw):
    text = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=30)))
    solid = [i for i, ch in enumerate(text) if not ch.isspace()]
    positions = sorted(draw(st.lists(st.sampled_from(solid), unique=True, max_size=8))) if solid else []
    spans, i = [], 0
    while i < len(positions):
        if i + 1 < len(positions) and draw(st.booleans()):
            spans.append(Span(positions[i], positions[i + 1] + 1, draw(st.sampled_from(TYPES))))
            i += 2
        else:
            spans.append(Span(positions[i], positions[i] + 1, draw(st.sampled_from(TYPES))))
            i += 1
    return text, spans


CORPORA = st.lists(texts_and_spans(), min_size=1, max_size=4)


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=CORPORA)
def test_round_trip_read_tags_entities_write(name, corpus, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rt")
    texts = [t for t, _ in corpus]
    spans = [s for _, s in corpus]
    first = folder / ("a" if name == "brat" else "a.txt")
    write_spans(first, texts, spans, format=name)
    assert detect_format(first) == name
    read_texts, read_entities = read_spans(first, format=name)
    assert read_texts == texts and read_entities == spans
    tokens, tags = spans_to_tags(read_texts, read_entities)  # character model
    assert [len(t) for t in tokens] == [len(char_tokens(t)[0]) for t in texts]
    back = tags_to_spans(read_texts, tags)
    assert back == spans
    second = folder / ("b" if name == "brat" else "b.txt")
    write_spans(second, read_texts, back, format=name)
    assert read_spans(second, format=name) == (texts, spans)
    if name != "brat":
        assert second.read_bytes() == first.read_bytes()


@st.composite
def worded(draw):
    words = draw(st.lists(st.text(st.sampled_from(["a", "b", "张", "😀", "𠀀", "-"]), min_size=1, max_size=4), max_size=8))
    gaps = [draw(st.sampled_from([" ", "\t", "\r\n", "\u3000  "])) for _ in words]
    text, offsets = draw(st.sampled_from(["", " "])), []
    for word, gap in zip(words, gaps):
        offsets.append((len(text), len(text) + len(word)))
        text += word + gap
    indices = sorted(draw(st.lists(st.integers(0, max(0, len(words) - 1)), unique=True, max_size=6))) if words else []
    spans = [Span(offsets[a][0], offsets[b][1], draw(st.sampled_from(TYPES)))
             for a, b in zip(indices[::2], indices[1::2])]
    return text, spans


@settings(max_examples=150, deadline=None)
@given(items=st.lists(worded(), min_size=1, max_size=3), scheme=st.sampled_from(["BIO", "BIOES", "IOB1", "BMES"]))
def test_word_model_round_trip_and_valid_tags(items, scheme):
    texts = [t for t, _ in items]
    spans = [s for _, s in items]
    tokens, tags = spans_to_tags(texts, spans, token_unit="word", scheme=scheme)
    assert tokens == [word_tokens(t)[0] for t in texts]
    assert all(len(a) == len(b) for a, b in zip(tokens, tags))
    if scheme in ("BIO", "BIOES"):
        assert all(is_valid(t, scheme) for t in tags)
    assert tags_to_spans(texts, tags, token_unit="word", scheme=scheme) == spans


@settings(max_examples=150, deadline=None)
@given(corpus=CORPORA, scheme=st.sampled_from(["BIO", "BIOES"]))
def test_char_tags_valid_and_one_per_non_space_character(corpus, scheme):
    texts = [t for t, _ in corpus]
    tokens, tags = spans_to_tags(texts, [s for _, s in corpus], scheme=scheme)
    for text, toks, seq in zip(texts, tokens, tags):
        assert toks == [ch for ch in text if not ch.isspace()] and len(seq) == len(toks) and is_valid(seq, scheme)


def test_whitespace_edges_trimmed_and_reported(caplog):
    text = "  张 三 , x"
    with caplog.at_level(logging.WARNING, logger="bilstm_crf_ner.corpus.spans"):
        tokens, tags = spans_to_tags([text], [[(1, 6, "PER")]])
    assert tokens == [["张", "三", ",", "x"]] and tags == [["B-PER", "I-PER", "O", "O"]]
    assert tags_to_spans([text], tags) == [[(2, 5, "PER")]]  # the span comes back trimmed: '张 三'
    assert "1 span(s) adjusted to token boundaries (1 trimmed whitespace)" in caplog.text
    with pytest.raises(InputError, match="covers no token"):
        spans_to_tags([text], [[(0, 2, "PER")]])


def test_word_boundary_inside_a_token_expanded_or_refused(caplog):
    texts = ["Visit New York now", "I like Berlin's food"]
    entities = [[(6, 11, "LOC")], [(7, 13, "LOC")]]  # "New Y", "Berlin" (inside "Berlin's")
    alignment = align_spans(texts, entities, token_unit="word")
    assert [(i, tuple(s), r, tuple(a)) for i, s, r, a in alignment.adjusted] == [
        (0, (6, 11, "LOC"), "edge inside a token", (6, 14, "LOC")),
        (1, (7, 13, "LOC"), "edge inside a token", (7, 15, "LOC"))]
    with caplog.at_level(logging.WARNING, logger="bilstm_crf_ner.corpus.spans"):
        _, tags = spans_to_tags(texts, entities, token_unit="word")
    assert tags == [["O", "B-LOC", "I-LOC", "O"], ["O", "O", "B-LOC", "O"]]
    assert "2 span(s) adjusted to token boundaries (2 edge inside a token)" in caplog.text
    assert "'New Y' (6, 11, 'LOC') -> 'New York'" in caplog.text
    with pytest.raises(InputError, match=r"2 span\(s\) start or end inside a token .*'New Y'"):
        spans_to_tags(texts, entities, token_unit="word", boundary="refuse")
    with pytest.raises(InputError, match="share a token"):
        spans_to_tags(["Berlin's"], [[(0, 6, "LOC"), (6, 8, "X")]], token_unit="word")


def test_spans_to_tags_accepts_a_tokenizer_and_entities():
    from bilstm_crf_ner.core.entities import Entity

    tokens, tags = spans_to_tags(["张三 好"], [[Entity("PER", 0, 2, "张三")]], token_unit=char_tokens, scheme="BIOES")
    assert tokens == [["张", "三", "好"]] and tags == [["B-PER", "E-PER", "O"]]
    with pytest.raises(InputError, match="1 texts but 2"):
        spans_to_tags(["a"], [[], []])
    with pytest.raises(InputError, match="3 tokens but 2 tags"):
        tags_to_spans(["a b c"], [["O", "O"]])


# ---- command line -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def span_corpus(msra, tmp_path_factory):
    """MSRA sentences as a CoNLL file and as the equivalent doccano, Label Studio and BRAT data."""
    from bilstm_crf_ner.core.tags import spans_from_tags
    from bilstm_crf_ner.corpus import write_conll

    root = tmp_path_factory.mktemp("spans")
    train_x, train_y, test_x, test_y = msra

    def spans_of(x, y):
        return ["".join(s) for s in x], [[Span(a, b, t) for t, a, b in spans_from_tags(tags)] for tags in y]

    train_texts, train_spans = spans_of(train_x[:2000], train_y[:2000])
    write_spans(root / "train.jsonl", train_texts, train_spans, format="doccano")
    test_texts, test_spans = spans_of(test_x[:150], test_y[:150])
    write_conll(root / "test.conll", test_x[:150], test_y[:150])
    write_spans(root / "test.jsonl", test_texts, test_spans, format="doccano")
    write_spans(root / "test.json", test_texts, test_spans, format="label-studio")
    write_spans(root / "test_brat", test_texts, test_spans, format="brat")
    return root


@pytest.fixture(scope="module")
def span_model(span_corpus):
    """A small character model trained by the CLI from the doccano file (a few seconds)."""
    from bilstm_crf_ner.cli import main

    out = span_corpus / "model"
    code = main(["train", "--train", str(span_corpus / "train.jsonl"), "--format", "doccano", "--dev-fraction", "0.1",
                 "--test", str(span_corpus / "test.jsonl"), "--epochs", "5", "--embedding-dim", "32", "--bigram-dim", "0",
                 "--lstm-units", "32", "--learning-rate", "0.01", "--seed", "3", "--output", str(out),
                 "--report", str(span_corpus / "train_report.json"), "-q"])
    assert code == 0
    return out


def test_train_on_a_doccano_file(span_model, span_corpus):
    from bilstm_crf_ner import BLSTMCRFModel

    model = BLSTMCRFModel.load(span_model)
    assert model.embedding.token_unit == "char"
    assert {t.split("-")[-1] for t in model.tags} == {"O", "PER", "LOC", "ORG"}
    report = json.loads((span_corpus / "train_report.json").read_text())
    assert report["split"] == "test" and report["support"] > 0
    print(f"span-trained model: test F1 {report['f1']:.3f}")


def test_evaluate_span_files_equals_conll(span_model, span_corpus, capsys):
    from bilstm_crf_ner.cli import main

    reports = {}
    for name in ("test.conll", "test.jsonl", "test.json", "test_brat"):
        out = span_corpus / f"{name}.report.json"
        assert main(["evaluate", str(span_model), str(span_corpus / name), "--json", str(out), "-q"]) == 0
        stdout = capsys.readouterr().out
        report = json.loads(out.read_text())
        report.pop("data")
        reports[name] = (report, stdout.split("\n", 1)[1])  # the first line names the file
    reference = reports.pop("test.conll")
    assert reference[0]["sentences"] == 150 and reference[0]["support"] > 0
    for name, got in reports.items():
        assert got == reference, name


def label_studio_import_schema():
    """Label Studio's pre-annotation import format for <Labels> on <Text> (labelstud.io/guide/predictions):
    a list of tasks with a data object and a predictions array of results."""
    region = {"type": "object", "required": ["id", "from_name", "to_name", "type", "value"],
              "properties": {"id": {"type": "string"}, "from_name": {"type": "string"}, "to_name": {"type": "string"},
                             "type": {"const": "labels"}, "score": {"type": "number", "minimum": 0, "maximum": 1},
                             "value": {"type": "object", "required": ["start", "end", "text", "labels"],
                                       "additionalProperties": False,
                                       "properties": {"start": {"type": "integer", "minimum": 0},
                                                      "end": {"type": "integer", "minimum": 1},
                                                      "text": {"type": "string"},
                                                      "labels": {"type": "array", "minItems": 1,
                                                                 "items": {"type": "string"}}}}}}
    prediction = {"type": "object", "required": ["result"],
                  "properties": {"model_version": {"type": "string"}, "score": {"type": "number"},
                                 "result": {"type": "array", "items": region}}}
    task = {"type": "object", "required": ["data", "predictions"],
            "properties": {"data": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                           "predictions": {"type": "array", "items": prediction}}}
    return {"type": "array", "items": task}


def test_predict_label_studio_doccano_jsonl(span_model, span_corpus, tmp_path, capsys):
    import jsonschema
    from bilstm_crf_ner import BLSTMCRFModel
    from bilstm_crf_ner.cli import main

    texts = ["国务院总理李鹏在北京会见了美国客人。", "", "中共中央致中国致公党十一大的贺词 😀"]
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join(texts) + "\n", encoding="utf-8")
    expected = BLSTMCRFModel.load(span_model).predict_entities(texts)
    assert any(expected)
    out = tmp_path / "pre.json"
    assert main(["predict", str(span_model), str(raw), "--format", "label-studio", "--output", str(out),
                 "--from-name", "ner", "-q"]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(tasks, label_studio_import_schema())
    assert [t["data"]["text"] for t in tasks] == texts
    for task, entities in zip(tasks, expected):
        result = task["predictions"][0]["result"]
        assert task["predictions"][0]["model_version"] == "model"
        assert [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in result] == \
               [(e.start, e.end, e.type) for e in entities]
        assert all(r["from_name"] == "ner" and r["to_name"] == "text" for r in result)
        assert all(task["data"]["text"][r["value"]["start"]:r["value"]["end"]] == r["value"]["text"] for r in result)
    assert read_spans(out)[1] == [[(e.start, e.end, e.type) for e in s] for s in expected]  # it reads back
    for name in ("doccano", "jsonl"):
        assert main(["predict", str(span_model), str(raw), "--format", name, "-q"]) == 0
        path = tmp_path / f"p.{name}"
        path.write_text(capsys.readouterr().out, encoding="utf-8")
        assert read_spans(path, format=name) == (texts, [[(e.start, e.end, e.type) for e in s] for s in expected])
    conll = tmp_path / "in.conll"
    conll.write_text("中 O\n", encoding="utf-8")
    assert main(["predict", str(span_model), str(conll), "--input-format", "conll", "--format", "doccano", "-q"]) == 2
    assert "use --input-format text" in capsys.readouterr().err


def test_cli_span_errors_are_one_line(span_model, span_corpus, tmp_path, capsys):
    from bilstm_crf_ner.cli import main

    bad = write(tmp_path / "bad.jsonl", '{"text": "北京大学", "label": [[0, 2, "LOC"], [0, 4, "ORG"]]}\n')
    assert main(["evaluate", str(span_model), str(bad), "-q"]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:1: overlapping or nested spans" in err and len(err.strip().splitlines()) == 1
    assert main(["evaluate", str(span_model), str(bad), "--overlaps", "longest", "-q"]) == 0
    capsys.readouterr()
    odd = write(tmp_path / "odd.json", '{"foo": 1}\n')
    assert main(["evaluate", str(span_model), str(odd), "-q"]) == 2
    assert "pass --format" in capsys.readouterr().err
