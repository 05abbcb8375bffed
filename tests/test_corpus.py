import pytest

from bilstm_crf_ner.corpus import msra_files, read_conll, write_conll
from bilstm_crf_ner.core.errors import CorpusFormatError


def write(tmp_path, text, name="c.txt", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_reads_spaces_tabs_extra_columns_docstart_and_bom(tmp_path):
    path = write(tmp_path, "\ufeff-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects\tVBZ\tO\n\n\n  \nGerman JJ B-MISC\n")
    assert read_conll(path) == ([["EU", "rejects"], ["German"]], [["B-ORG", "O"], ["B-MISC"]])


def test_full_width_space_is_a_token(tmp_path):
    path = write(tmp_path, "\u3000 O\n中 B-LOC\n")
    assert read_conll(path) == ([["\u3000", "中"]], [["O", "B-LOC"]])


def test_leading_inside_tags_are_accepted(tmp_path):
    path = write(tmp_path, "北 I-LOC\n京 I-LOC\n")
    assert read_conll(path)[1] == [["I-LOC", "I-LOC"]]


@pytest.mark.parametrize("text, line, message", [
    ("a O\nb\n", 2, "expected a token and a tag"),
    ("a O\n\nb B_PER\n", 3, "malformed tag"),
    ("a O\nb X-PER\n", 2, "does not belong"),
])
def test_malformed_lines_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(CorpusFormatError, match=message) as info:
        read_conll(path)
    assert info.value.line_number == line and str(path) in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}:")


def test_undecodable_bytes(tmp_path):
    path = write(tmp_path, b"a O\n\xff\xfe O\n")
    with pytest.raises(CorpusFormatError, match=":2: cannot decode"):
        read_conll(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_conll("/nonexistent/train.bio")


def test_write_then_read_round_trip(tmp_path, msra):
    x, y = msra[0][:50], msra[1][:50]
    path = tmp_path / "out.bio"
    write_conll(path, x, y)
    assert read_conll(path) == (x, y)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_write_refuses_unwritable_tokens(tmp_path):
    with pytest.raises(ValueError, match="cannot be written"):
        write_conll(tmp_path / "x", [["a b"]], [["O"]])
    with pytest.raises(ValueError, match="1 tokens but 2 tags"):
        write_conll(tmp_path / "x", [["a"]], [["O", "O"]])


def test_real_msra_counts(msra):
    train_x, train_y, test_x, test_y = msra
    assert (len(train_x), sum(map(len, train_x))) == (50658, 2169879)
    assert (len(test_x), sum(map(len, test_x))) == (4365, 172601)
    starts = sum(1 for tags in train_y for i, t in enumerate(tags) if t.startswith("I-") and (i == 0 or tags[i - 1] == "O"))
    assert starts == 6  # the README's six entities that start with I-


def test_msra_files_env_and_errors(monkeypatch, tmp_path):
    monkeypatch.delenv("MSRA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="MSRA_DIR"):
        msra_files()
    monkeypatch.setenv("MSRA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="missing"):
        msra_files()
