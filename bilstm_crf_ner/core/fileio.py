"""Atomic writes (a folder or a file is built beside its destination, then swapped in) and JSON files.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_folder(root / "out") as tmp:
...     _ = (tmp / "a.txt").write_text("done")
>>> sorted(p.name for p in root.iterdir())
['out']
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ModelLoadError


@contextlib.contextmanager
def atomic_folder(path):
    """Yield an empty temporary folder; on success it replaces ``path``, on error it is removed.

    A crash at any point leaves either the previous ``path`` or the complete new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the result should not be
    try:
        yield tmp
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, path: Path) -> None:
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
        os.rmdir(old)
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None):
    """Yield a file handle for a temporary file beside ``path``; on success it replaces ``path``,
    on error it is removed, so ``path`` is never left half-written."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        text = "b" not in mode
        os.close(fd)  # reopened by name, so the handle's ``name`` is the temporary path
        with open(tmp, mode, encoding=encoding if text else None, newline=newline if text else None) as handle:
            yield handle
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_json(path: Path, data, indent: int | None = None) -> None:
    """Write ``data`` as UTF-8 JSON (non-ASCII kept readable), atomically."""
    with atomic_file(path) as handle:
        handle.write(json.dumps(data, ensure_ascii=False, indent=indent))


def read_json(path: Path, kind: str):
    """Parse the JSON file that marks a ``kind`` folder; raise :class:`ModelLoadError` if absent or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path.parent} is not {kind} (no {path.name})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path} is corrupt: {exc}") from None
