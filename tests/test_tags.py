import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.core.errors import TagSchemeError
from bilstm_crf_ner.core.tags import (
    SCHEMES, allowed_transitions, convert_tags, detect_scheme, is_valid, parse_tag, spans_from_tags, tag_inventory,
    tags_from_spans,
)

TYPES = ["PER", "LOC", "ORG"]


@st.composite
def span_sets(draw):
    """Random non-overlapping spans (adjacent same-type entities included) and a length."""
    length = draw(st.integers(0, 12))
    spans, position = [], 0
    while position < length:
        if draw(st.booleans()):
            end = draw(st.integers(position + 1, length))
            spans.append((draw(st.sampled_from(TYPES)), position, end))
            position = end
        else:
            position += draw(st.integers(1, 3))
    return spans, length


@given(span_sets(), st.sampled_from(SCHEMES))
def test_spans_round_trip_through_every_scheme(spans_and_length, scheme):
    spans, length = spans_and_length
    tags = tags_from_spans(spans, length, scheme)
    assert spans_from_tags(tags, scheme) == spans


@given(span_sets(), st.sampled_from(SCHEMES), st.sampled_from(SCHEMES))
def test_conversion_is_lossless(spans_and_length, source, target):
    spans, length = spans_and_length
    tags = tags_from_spans(spans, length, source)
    converted = convert_tags(tags, source, target)
    assert convert_tags(converted, target, source) == tags
    assert spans_from_tags(converted, target) == spans


@settings(max_examples=300)
@given(st.lists(st.sampled_from(tag_inventory(["PER", "LOC"], "BIOES")), max_size=8), st.sampled_from(["BIO", "BIOES"]))
def test_strict_validity_is_the_fixed_point_of_repair(raw, scheme):
    tags = [t if scheme == "BIOES" or t[0] in "BIO" else "I" + t[1:] for t in raw]
    assert is_valid(tags, scheme) == (convert_tags(tags, scheme, scheme) == tags)


def test_leading_inside_tag_is_repaired_as_a_begin():
    assert spans_from_tags(["I-LOC", "I-LOC", "O"], "BIO") == [("LOC", 0, 2)]
    assert convert_tags(["I-LOC", "I-LOC", "O", "I-PER"], "BIO", "BIO") == ["B-LOC", "I-LOC", "O", "B-PER"]
    assert convert_tags(["B-LOC", "I-PER"], "BIO", "BIOES") == ["S-LOC", "S-PER"]


def test_iob1_reads_and_writes():
    iob1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC"]
    assert spans_from_tags(iob1, "IOB1") == [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5)]
    assert convert_tags(iob1, "IOB1", "BIO") == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert convert_tags(["B-PER", "I-PER", "B-PER", "O", "B-LOC"], "BIO", "IOB1") == iob1


def test_bmes_uses_m_for_inside():
    assert convert_tags(["B-ORG", "I-ORG", "I-ORG", "O"], "BIO", "BMES") == ["B-ORG", "M-ORG", "E-ORG", "O"]


def test_detect_scheme():
    assert detect_scheme([["B-PER", "I-PER"], ["O"]]) == "BIO"
    assert detect_scheme([["S-PER"], ["O"]]) == "BIOES"
    assert detect_scheme([["B-PER", "M-PER", "E-PER"]]) == "BMES"


@pytest.mark.parametrize("bad", ["X", "B_PER", "Q-PER", "", "B-"])
def test_malformed_tags_raise(bad):
    with pytest.raises(TagSchemeError):
        parse_tag(bad, "BIO")


def test_scheme_specific_prefixes():
    with pytest.raises(TagSchemeError, match="does not belong"):
        spans_from_tags(["S-PER"], "BIO")
    with pytest.raises(TagSchemeError, match="unknown tag scheme"):
        convert_tags(["O"], "BIO", "XYZ")


def test_transition_masks_match_hand_written_rules():
    tags = tag_inventory(["PER", "LOC"], "BIOES")
    trans, start, end = allowed_transitions(tags, "BIOES")
    index = {t: i for i, t in enumerate(tags)}
    assert not trans[index["O"], index["I-PER"]]
    assert not trans[index["B-PER"], index["I-LOC"]]
    assert not trans[index["B-PER"], index["O"]]
    assert trans[index["B-PER"], index["E-PER"]] and trans[index["E-PER"], index["S-LOC"]]
    assert not start[index["I-PER"]] and not start[index["E-LOC"]] and start[index["S-PER"]]
    assert not end[index["B-PER"]] and not end[index["I-LOC"]] and end[index["E-PER"]]
    bio = tag_inventory(["PER", "LOC"], "BIO")
    trans, start, end = allowed_transitions(bio, "BIO")
    i = {t: k for k, t in enumerate(bio)}
    assert not trans[i["O"], i["I-PER"]] and not trans[i["B-PER"], i["I-LOC"]] and trans[i["I-PER"], i["B-PER"]]
    assert end.all() and not start[i["I-LOC"]]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 8), max_size=12), max_size=5), st.lists(st.booleans(), min_size=5, max_size=5),
       st.sampled_from(["BIO", "BIOES"]))
def test_tag_writer_equals_convert_tags(paths, repair, target):
    """The table shortcut for valid BIOES paths gives what the span-based conversion gives
    (and the model's own scheme is returned as decoded), path by path within a batch that mixes
    valid, invalid and empty paths (the validity check runs on the whole batch at once)."""
    from bilstm_crf_ner.core.inference import tag_writer

    tags = tag_inventory(["PER", "LOC"], "BIOES")
    write = tag_writer(tags, "BIOES", target)
    batch = [_repair(tags, path) if fix else path for path, fix in zip(paths, repair)]
    expected = [[tags[i] for i in path] for path in batch]
    if target != "BIOES":
        expected = [convert_tags(named, "BIOES", target) for named in expected]
    assert write([np.array(path, dtype=np.int64) for path in batch]) == expected
    assert write([]) == []


def _repair(tags, path):
    """The ids of ``path`` made valid BIOES (so the shortcut is exercised, not only the fallback)."""
    repaired = convert_tags([tags[i] for i in path], "BIOES", "BIOES")
    assert is_valid(repaired, "BIOES")
    return [tags.index(t) for t in repaired]


def test_entity_report_without_any_entity():
    """seqeval cannot tabulate zero entities; the report is then all zeros, not a crash."""
    from bilstm_crf_ner.core.evaluation import entity_report

    report = entity_report([["O", "O"], ["O"]], [["O", "O"], ["O"]])
    assert (report.f1, report.support, report.per_type) == (0.0, 0, {})
    assert sum(report.errors["counts"].values()) == 0
    spurious = entity_report([["O", "O"]], [["B-PER", "I-PER"]])  # a prediction alone still goes to seqeval
    assert spurious.precision == 0.0 and spurious.errors["counts"]["spurious"] == 1
