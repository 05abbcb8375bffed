"""BRAT standoff: a folder of ``NAME.txt`` (the raw text) + ``NAME.ann`` pairs, one record each.

Only text-bound annotations are read: ``T1<TAB>TYPE START END<TAB>SURFACE``, offsets into the
``.txt`` file as Python reads it with newlines untranslated (``\\r\\n`` counts 2). The surface
must match (line breaks inside it compare as spaces, as brat writes them). Discontinuous spans
(``START END;START END``) cannot be tagged and raise :class:`CorpusFormatError` with the
``.ann`` file and line; relations, events, attributes, normalizations and notes are ignored.
``path`` may be the folder, one ``.ann`` file or its ``.txt``. Writing makes a folder of
``doc00000.txt``/``.ann`` pairs (``names=`` to choose) and an ``annotation.conf``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...core.errors import CorpusFormatError
from ...core.fileio import atomic_folder
from .records import Record, as_span, check_span, read_bytes_lines

NAME = "brat"
_OFFSETS = re.compile(r"^(\d+) (\d+)$")
_BRAT_FILES = (".txt", ".ann", ".conf")


def _flat(surface: str) -> str:
    return surface.replace("\r", " ").replace("\n", " ")


def ann_files(path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        return sorted(path.glob("*.ann"))
    if path.suffix == ".txt":
        path = path.with_suffix(".ann")
    if not path.is_file():
        raise FileNotFoundError(f"BRAT annotation file not found: {path}")
    return [path]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"BRAT text file not found: {path} (each .ann needs its .txt)")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise CorpusFormatError(path, path.read_bytes().count(b"\n", 0, exc.start) + 1,
                                f"cannot decode as utf-8: {exc.reason}") from None


def read(path) -> list[Record]:
    files = ann_files(path)
    if not files:
        raise FileNotFoundError(f"no .ann files in {path}")
    records = []
    for ann in files:
        text = _read_text(ann.with_suffix(".txt"))
        spans = []
        for number, line in read_bytes_lines(ann):
            if not line.startswith("T"):
                continue  # relations, events, attributes, notes; blank lines
            fields = line.split("\t", 2)
            if len(fields) != 3 or " " not in fields[1]:
                raise CorpusFormatError(ann, number, f"expected 'T<id><TAB>TYPE START END<TAB>TEXT', got {line!r}")
            etype, offsets = fields[1].split(" ", 1)
            if ";" in offsets:
                raise CorpusFormatError(ann, number, f"discontinuous span {fields[0]} {etype} {offsets}: a tagger "
                                                     "cannot represent it (split it into separate entities)")
            match = _OFFSETS.match(offsets)
            if match is None:
                raise CorpusFormatError(ann, number, f"offsets must be 'START END', got {offsets!r}")
            spans.append(check_span(ann, number, text, int(match.group(1)), int(match.group(2)), etype, fields[2],
                                    normalize=_flat))
        records.append(Record(text, spans, "spans", ann))
    return records


def write(path, texts, entities, names=None, **_) -> None:
    """Write the folder atomically; an existing ``path`` is replaced only if it holds BRAT files alone."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise FileExistsError(f"{path} exists and is not a folder")
        others = [p.name for p in path.iterdir() if p.suffix not in _BRAT_FILES]
        if others:
            raise FileExistsError(f"{path} holds files other than BRAT .txt/.ann ({', '.join(sorted(others)[:3])}); "
                                  "not replacing it")
    names = list(names) if names is not None else [f"doc{i:05d}" for i in range(len(texts))]
    if len(names) != len(texts) or len(set(names)) != len(names):
        raise ValueError("names must give one distinct file name per text")
    types = set()
    with atomic_folder(path) as tmp:
        for name, text, items in zip(names, texts, entities):
            lines = []
            for j, item in enumerate(items, start=1):
                span = as_span(item)
                if any(ch.isspace() for ch in span.type):
                    raise ValueError(f"BRAT entity types cannot contain spaces: {span.type!r}")
                types.add(span.type)
                lines.append(f"T{j}\t{span.type} {span.start} {span.end}\t{_flat(text[span.start:span.end])}\n")
            with open(tmp / f"{name}.txt", "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            with open(tmp / f"{name}.ann", "w", encoding="utf-8", newline="") as handle:
                handle.writelines(lines)
        conf = "[entities]\n" + "".join(f"{t}\n" for t in sorted(types)) + "\n[relations]\n\n[events]\n\n[attributes]\n"
        (tmp / "annotation.conf").write_text(conf, encoding="utf-8")
