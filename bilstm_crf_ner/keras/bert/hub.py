"""Where a BERT checkpoint comes from: a local folder, or a Hugging Face Hub handle.

``"path/to/folder"`` is used as it is. ``"hf://org/name"`` and bare hub names such as
``"bert-base-chinese"`` (when no such local folder exists) are downloaded through
``huggingface_hub`` into its normal cache (``HF_HOME``), only the files a BERT tagger needs,
and every large (LFS) file is checked against the SHA-256 the hub published for it. Offline,
or with ``HF_HUB_OFFLINE=1`` and nothing cached, the error says how to use a local folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from ...core.errors import ModelLoadError

logger = logging.getLogger(__name__)

HF_PREFIX = "hf://"
CHECKPOINT_FILES = ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                    "model.safetensors", "model.safetensors.index.json", "model-*.safetensors"]
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def is_hub_handle(spec: str) -> bool:
    """Whether ``spec`` names a hub repository rather than a local folder."""
    if spec.startswith(HF_PREFIX):
        return True
    return not Path(spec).exists() and bool(_REPO_ID.match(spec)) and not spec.startswith((".", "/", "~"))


def resolve_checkpoint(spec, cache_dir=None, endpoint: str | None = None, revision: str | None = None) -> Path:
    """A local folder holding the checkpoint named by ``spec`` (see the module docstring)."""
    spec = os.fspath(spec)
    if not is_hub_handle(spec):
        folder = Path(spec).expanduser()
        if not folder.is_dir():
            raise ModelLoadError(f"checkpoint folder {folder} does not exist")
        return folder
    repo_id = spec[len(HF_PREFIX):] if spec.startswith(HF_PREFIX) else spec
    return download(repo_id, cache_dir=cache_dir, endpoint=endpoint, revision=revision)


def download(repo_id: str, cache_dir=None, endpoint: str | None = None, revision: str | None = None) -> Path:
    """Download (or find in the cache) a hub checkpoint and verify its LFS checksums."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ModelLoadError(f"{repo_id!r} is not a local folder, and downloading from the Hugging Face Hub needs "
                             "huggingface_hub (pip install huggingface_hub)") from None
    how_to = (f"download the checkpoint on a connected machine (e.g. `hf download {repo_id}`) and pass its folder, "
              "which must hold config.json, vocab.txt and model.safetensors (or bert_config.json, vocab.txt and "
              "bert_model.ckpt.* for a Google checkpoint)")
    try:
        folder = Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, endpoint=endpoint,
                                        allow_patterns=CHECKPOINT_FILES))
    except Exception as exc:  # huggingface_hub raises many types: offline, not found, gated, HTTP errors
        raise ModelLoadError(f"cannot get checkpoint {repo_id!r} from the Hugging Face Hub "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); {how_to}") from None
    verify_lfs_checksums(folder)
    logger.info("checkpoint %s is in %s", repo_id, folder)
    return folder


def verify_lfs_checksums(folder: Path) -> None:
    """Each file of a hub snapshot whose blob is named by a SHA-256 (LFS files) must hash to it."""
    for file in folder.iterdir():
        blob = Path(os.path.realpath(file))
        expected = blob.name
        if not re.fullmatch(r"[0-9a-f]{64}", expected):
            continue
        digest = hashlib.sha256()
        with open(blob, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != expected:
            os.remove(blob)
            raise ModelLoadError(f"{file.name} downloaded to {blob} is corrupt (SHA-256 {digest.hexdigest()}, "
                                 f"expected {expected}); it was removed, try again")
