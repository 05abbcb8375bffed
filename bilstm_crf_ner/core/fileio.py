"""Atomic folder writes: build a folder beside its destination, then swap it in.

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
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result should not be
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


def write_json(path: Path, data) -> None:
    """Write ``data`` as UTF-8 JSON (non-ASCII kept readable)."""
    Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def read_json(path: Path, kind: str):
    """Parse the JSON file that marks a ``kind`` folder; raise :class:`ModelLoadError` if absent or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path.parent} is not {kind} (no {path.name})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path} is corrupt: {exc}") from None
