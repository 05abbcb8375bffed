"""Public NER corpora: pinned downloads, verified and cached (TensorFlow-free).

Each :class:`Dataset` lists its files with an immutable URL (a commit hash in the path), a size
and a SHA-256. :func:`download` fetches what the cache lacks into a temporary file next to its
final place, checks size and checksum, and only then renames it: a partial or corrupt download
never counts. Corpora in another layout are converted once into column files (``train.bio``...).

The cache folder is ``$BILSTM_CRF_NER_DATA``, else ``$XDG_CACHE_HOME/bilstm_crf_ner``, else
``~/.cache/bilstm_crf_ner``; each corpus gets a subfolder named after it. Offline, put the files
there by hand (the error message says which and where). ``BILSTM_CRF_NER_MIRROR`` (or
``mirror=``) fetches ``<mirror>/<corpus>/<file>`` instead of the pinned URLs: same checksums.

>>> sorted(DATASETS)[:3]
['cluener', 'conll2003', 'msra']
>>> DATASETS["msra"].splits
{'train': 'train.bio', 'test': 'test.bio'}
>>> cache_dir("/tmp/corpora")
PosixPath('/tmp/corpora')

Typical use (needs the internet, or the files placed by hand)::

    folder = download("msra")                     # ~/.cache/bilstm_crf_ner/msra
    train_x, train_y = load_dataset("msra", "train")
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

from ..core.errors import DatasetError
from ..core.fileio import atomic_file
from .conll import read_conll, write_conll

logger = logging.getLogger(__name__)

#: Environment variable naming the cache folder (default: the user's cache directory).
DATA_ENV = "BILSTM_CRF_NER_DATA"
#: Environment variable naming a mirror that serves ``<mirror>/<corpus>/<file>`` (same checksums).
MIRROR_ENV = "BILSTM_CRF_NER_MIRROR"
#: Seconds without data before a download is abandoned.
DEFAULT_TIMEOUT = 60.0
_CHUNK = 1 << 16
_USER_AGENT = "bilstm_crf_ner-datasets"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a corpus: stored as ``name`` in the corpus folder, fetched from ``url``.

    ``sha256`` and ``size`` are those of the exact bytes at ``url``. Where the SHA-256 could not
    be computed when the entry was written, ``git_blob`` (the file's git object id, a SHA-1 over
    ``b"blob <size>\\0" + bytes``, read from the repository's tree at the pinned commit) is checked
    instead; it pins the size too.
    """

    name: str
    url: str
    size: int | None = None
    sha256: str | None = None
    git_blob: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A corpus: its files, how they become split files, where it comes from and its license.

    ``splits`` maps a split name to the file the loaders read; ``prepare(folder)`` (if any) writes
    those files from the downloaded ones. ``files`` is empty for corpora that cannot be
    redistributed: their folder is given by the user (``env`` or ``data_dir``) or filled by hand.
    """

    name: str
    title: str
    license: str
    homepage: str
    splits: Mapping[str, str]
    files: tuple[RemoteFile, ...] = ()
    format: str = "conll"
    prepare: Callable[[Path], None] | None = None
    env: str | None = None
    by_hand: str | None = None
    notes: str = ""
    expected: Mapping[str, str] = field(default_factory=dict)  # sha256 of prepared files, where known


# ---------------------------------------------------------------------------------------- converters

_MSRA_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}
_MSRA_STOPS = "。！？；"
_MSRA_CLOSERS = "”’」』》）"
_MSRA_SOFT = "，、"
MSRA_MAX_SENTENCE = 100


def _msra_sentence(line: str):
    chars, tags = [], []
    for item in line.split():
        word, _, tag = item.rpartition("/")
        if not word:  # a bare token without "/tag"
            word, tag = item, "o"
        etype = _MSRA_TYPES.get(tag)
        for index, char in enumerate(word):
            chars.append(char)
            tags.append("O" if etype is None else f"{'B' if index == 0 else 'I'}-{etype}")
    return chars, tags


def split_msra_sentence(chars, limit: int = MSRA_MAX_SENTENCE) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of a long MSRA line: after each of 。！？； (with the closing quotes
    that follow it), then pieces over ``limit`` characters at their last ，or 、 (shorter than
    ``limit``), else at ``limit``.

    >>> split_msra_sentence(list("你好。“走！”他说"))
    [(0, 3), (3, 7), (7, 9)]
    """
    pieces, start, index = [], 0, 0
    while index < len(chars):
        index += 1
        if chars[index - 1] in _MSRA_STOPS:
            while index < len(chars) and chars[index] in _MSRA_CLOSERS:
                index += 1
            pieces.append((start, index))
            start = index
    if start < len(chars):
        pieces.append((start, len(chars)))
    result = []
    for start, end in pieces:
        while end - start > limit:
            cut = next((j for j in range(start + limit - 1, start, -1) if chars[j - 1] in _MSRA_SOFT), start + limit)
            result.append((start, cut))
            start = cut
        result.append((start, end))
    return result


def _write_msra(source: Path, target: Path, split: bool) -> None:
    sentences, tag_sequences = [], []
    with open(source, encoding="utf-8") as handle:
        for line in handle:
            chars, tags = _msra_sentence(line)
            if not chars:
                continue
            for start, end in split_msra_sentence(chars) if split else [(0, len(chars))]:
                sentences.append(chars[start:end])
                tag_sequences.append(tags[start:end])
    write_conll(target, sentences, tag_sequences)


def prepare_msra(folder: Path) -> None:
    """SIGHAN 2006 word/tag files (``nr``/``ns``/``nt``) to character BIO: ``train1.txt`` ->
    ``train.bio`` (split into sentences, :func:`split_msra_sentence`), ``testright1.txt`` ->
    ``test.bio`` (one line, one sentence, as the official test set)."""
    _write_msra(folder / "train1.txt", folder / "train.bio", split=True)
    _write_msra(folder / "testright1.txt", folder / "test.bio", split=False)


def prepare_weibo(folder: Path) -> None:
    """Weibo NER's ``char + segment position`` tokens (``科0``) to plain characters (``科``)."""
    for split in ("train", "dev", "test"):
        x, y = read_conll(folder / f"weiboNER_2nd_conll.{split}")
        x = [[t[:-1] if len(t) > 1 and t[-1].isdigit() else t for t in tokens] for tokens in x]
        write_conll(folder / f"{split}.bio", x, y)


# ---------------------------------------------------------------------------------------- registry

def _github(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_ZH_NER_TF = ("Determined22/zh-NER-TF", "e4a8732de88071dac5d1fce8da18de98365389fa")
_GOLDEN_HORSE = ("hltcoe/golden-horse", "7a73c08e45ed94312af4ef2d97cc35a47d029e99")
_LATTICE = ("jiesutd/LatticeLSTM", "24d17f4270f11d2f75046789d8b67eaa2b907dce")
_WNUT17 = ("leondz/emerging_entities_17", "e52a2d2a71ac1a051ca2d532eef28653c5c02603")
_CLUENER = ("hemingkx/CLUENER2020", "4bfd0b5fdd1537558f0c32dd28339af1f337afc9")
_PEOPLES_DAILY = ("zjy-ucas/ChineseNER", "48e1007e60194c13377f8ce612c505d484b18c7d")

_REGISTRY = (
    Dataset(
        name="msra", title="MSRA Chinese NER (SIGHAN 2006 bakeoff, Levow 2006): PER, LOC, ORG",
        license="none stated by the source (SIGHAN bakeoff data, research use)",
        homepage="https://github.com/Determined22/zh-NER-TF",
        splits={"train": "train.bio", "test": "test.bio"}, env="MSRA_DIR", prepare=prepare_msra,
        files=(
            RemoteFile("train1.txt", _github(*_ZH_NER_TF, "data_path/original/train1.txt"),
                       git_blob="784670e2a7ca36149f486b18a1caa2a72018a378"),
            RemoteFile("testright1.txt", _github(*_ZH_NER_TF, "data_path/original/testright1.txt"), 577540,
                       "dab27f3ecc9ee2cd6e555833adae1a0d70f864b74191a1734a8092c174140d30"),
        ),
        expected={"test.bio": "1696ad45fc195c1f2098c4c730ac678542a1707084fa0bffafc6b077d5832454"},
        notes="46,364 training lines split into sentences (about 50,658); official test set, 4,365 sentences"),
    Dataset(
        name="weibo", title="Weibo NER, 2nd version (Peng and Dredze 2015/2016): PER/ORG/LOC/GPE, NAM and NOM",
        license="CC BY-SA 3.0 (annotations); the messages follow Weibo's terms of service",
        homepage="https://github.com/hltcoe/golden-horse",
        splits={"train": "train.bio", "dev": "dev.bio", "test": "test.bio"}, prepare=prepare_weibo,
        files=(
            RemoteFile("weiboNER_2nd_conll.train", _github(*_GOLDEN_HORSE, "data/weiboNER_2nd_conll.train"), 536039,
                       "4e8954c54ab33b0afc9a8abb85715c47422645cc6d1b49fdb24540f4a427e997"),
            RemoteFile("weiboNER_2nd_conll.dev", _github(*_GOLDEN_HORSE, "data/weiboNER_2nd_conll.dev"), 105881,
                       "e72730d83aac680505280b6301c879b3ba470d29ac308979d48cdc58ee4907cc"),
            RemoteFile("weiboNER_2nd_conll.test", _github(*_GOLDEN_HORSE, "data/weiboNER_2nd_conll.test"), 108767,
                       "faaf6c0ebde5348b935cfd5c89f0f22c9e0779d60667d8b5efbc647b6707d50e"),
        ),
        notes="1,350 / 270 / 270 sentences"),
    Dataset(
        name="resume", title="Resume NER (Zhang and Yang 2018, Lattice LSTM): 8 types, BMES tags",
        license="none stated by the source (research use)",
        homepage="https://github.com/jiesutd/LatticeLSTM",
        splits={"train": "train.char.bmes", "dev": "dev.char.bmes", "test": "test.char.bmes"},
        files=tuple(
            RemoteFile(f"{split}.char.bmes", _github(*_LATTICE, f"ResumeNER/{split}.char.bmes"), size, digest)
            for split, size, digest in (
                ("train", 1094528, "93b9bb0be5dd4730121587f9dc1378de3fbbe55cba1c575edec271f822c27be7"),
                ("dev", 120251, "1b0d67153e6e8543e9444936ed1b107bd843078c282533898085e1a9aa293952"),
                ("test", 135064, "c4a9f42622819a4b59f66e184d446ebfa89b2f1dbba06e11d70675e59fe7e79b"))),
        notes="3,821 / 463 / 477 sentences"),
    Dataset(
        name="cluener", title="CLUENER2020 (Xu et al. 2020): 10 fine-grained types, span JSON lines",
        license="none stated by the source (research use)",
        homepage="https://github.com/CLUEbenchmark/CLUENER2020",
        splits={"train": "train.json", "dev": "dev.json"}, format="cluener",
        files=(
            RemoteFile("train.json", _github(*_CLUENER, "BERT-CRF/data/clue/train.json"), 2263005,
                       "b7e9f0802e86943c8af76f8375ae5ed00f15703484092e81579f241db4d0664a"),
            RemoteFile("dev.json", _github(*_CLUENER, "BERT-CRF/data/clue/test.json"), 285089,
                       "90036b59832e007c45d11eafe5ed80549f58a18a29aaa7fe8b1229622c69ec38"),
        ),
        notes="10,748 / 1,343 texts; the official test set has no public labels (this copy names dev test.json)"),
    Dataset(
        name="wnut17", title="WNUT 2017 emerging and rare entities (Derczynski et al. 2017): English, 6 types",
        license="CC BY 4.0", homepage="https://github.com/leondz/emerging_entities_17",
        splits={"train": "wnut17train.conll", "dev": "emerging.dev.conll", "test": "emerging.test.annotated"},
        files=tuple(
            RemoteFile(path, _github(*_WNUT17, path), size, digest)
            for path, size, digest in (
                ("wnut17train.conll", 493781, "731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5"),
                ("emerging.dev.conll", 114749, "e053b752b8155113ca66e7db08af5f2f5f43ab993694e4774f1ec5bad42312d8"),
                ("emerging.test.annotated", 192425,
                 "2aa79b764e56ec9264a1b30fdd9b70195bd00ff400b62edd8f399d5f13c178f0"))),
        notes="3,394 / 1,009 / 1,287 sentences"),
    Dataset(
        name="conll2003", title="CoNLL-2003 English NER (Tjong Kim Sang and De Meulder 2003): PER, LOC, ORG, MISC",
        license="not redistributable (Reuters RCV1 text): obtain it yourself",
        homepage="https://www.clips.uantwerpen.be/conll2003/ner/",
        splits={"train": "eng.train", "dev": "eng.testa", "test": "eng.testb"}, env="CONLL2003_DIR",
        by_hand="CoNLL-2003 cannot be redistributed: build it from Reuters RCV1 (https://www.clips.uantwerpen.be/"
                "conll2003/ner/) and pass its folder or set CONLL2003_DIR"),
    Dataset(
        name="peoples_daily", title="People's Daily 1998 NER (Kashgari's ChineseDailyNerCorpus): PER, LOC, ORG",
        license="none stated by the source (research use)",
        homepage="https://github.com/zjy-ucas/ChineseNER",
        splits={"train": "example.train", "dev": "example.dev", "test": "example.test"},
        files=(
            RemoteFile("example.train", _github(*_PEOPLES_DAILY, "data/example.train"),
                       git_blob="388fee7ca0b548fe2c35ff176a0c4412b0ca2329"),
            RemoteFile("example.dev", _github(*_PEOPLES_DAILY, "data/example.dev"), 702455,
                       "7d8e6fcd1745e6adcb99d90307d84c3a0f9f8ff5ee6fe62ca27646cb765fc38a"),
            RemoteFile("example.test", _github(*_PEOPLES_DAILY, "data/example.test"), 1405788,
                       "233299005f941a4b055e38aadcf3ee853e44bc1f88166078d3b52b26b77ea362"),
        ),
        notes="20,864 / 2,318 / 4,636 sentences"),
)

#: The corpora :func:`download` knows, by name (read-only).
DATASETS: Mapping[str, Dataset] = MappingProxyType({dataset.name: dataset for dataset in _REGISTRY})


# ---------------------------------------------------------------------------------------- cache

def cache_dir(path=None) -> Path:
    """The cache root: ``path``, else ``$BILSTM_CRF_NER_DATA``, else ``$XDG_CACHE_HOME/bilstm_crf_ner``,
    else ``~/.cache/bilstm_crf_ner``."""
    if path:
        return Path(path).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bilstm_crf_ner"


def _dataset(name_or_dataset) -> Dataset:
    if isinstance(name_or_dataset, Dataset):
        return name_or_dataset
    try:
        return DATASETS[str(name_or_dataset).lower()]
    except KeyError:
        raise DatasetError(f"unknown corpus {name_or_dataset!r}; known: {', '.join(sorted(DATASETS))}") from None


def _complete(dataset: Dataset, folder: Path) -> bool:
    return all((folder / name).is_file() for name in dataset.splits.values())


def cached_path(dataset, cache=None) -> Path | None:
    """The corpus folder in the cache if it holds every split file, else ``None`` (never downloads)."""
    dataset = _dataset(dataset)
    folder = cache_dir(cache) / dataset.name
    return folder if _complete(dataset, folder) else None


# ---------------------------------------------------------------------------------------- download

def _by_hand(dataset: Dataset, folder: Path) -> str:
    names = ", ".join(f.name for f in dataset.files) or ", ".join(dataset.splits.values())
    return f"to place the files by hand, put {names} into {folder}"


def _verify(remote: RemoteFile, path: Path, sha256: str | None = None) -> str | None:
    """``None`` if ``path`` holds the pinned bytes, else what differs."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        return f"expected {remote.size} bytes, got {size}"
    if remote.sha256:
        if sha256 is None:
            sha256 = _hash_file(path, hashlib.sha256())
        if sha256 != remote.sha256:
            return f"expected sha256 {remote.sha256}, got {sha256}"
    if remote.git_blob:
        blob = _hash_file(path, hashlib.sha1(f"blob {size}\0".encode()))
        if blob != remote.git_blob:
            return f"expected git blob {remote.git_blob}, got {blob}"
    return None


def _hash_file(path: Path, digest) -> str:
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _url(dataset: Dataset, remote: RemoteFile, mirror: str | None) -> str:
    return f"{mirror.rstrip('/')}/{dataset.name}/{remote.name}" if mirror else remote.url


def _fetch(dataset: Dataset, remote: RemoteFile, folder: Path, url: str, timeout: float) -> None:
    """Download ``url`` to ``folder/remote.name`` through a temporary file, verified before renaming."""
    target = folder / remote.name
    hint = f"to place it by hand, download {remote.url} and save it in {folder} as {remote.name}"
    if dataset.prepare is not None:
        hint += f" (or put the prepared {', '.join(dataset.splits.values())} there)"
    size = f" ({remote.size / 1e6:.1f} MB)" if remote.size else ""
    logger.info("downloading %s%s from %s", remote.name, size, url)
    # Written to a temporary file beside the target and renamed only once verified (atomic_file).
    try:
        with atomic_file(target, "wb") as out:
            digest = hashlib.sha256()
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                announced, received = response.headers.get("Content-Length"), 0
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
            if announced and announced.isdigit() and received < int(announced):
                raise ConnectionError(f"the connection dropped after {received} of {announced} bytes")
            out.flush()
            problem = _verify(remote, Path(out.name), digest.hexdigest())
            if problem:
                raise DatasetError(f"{dataset.name}: {remote.name} downloaded from {url} is not the pinned file "
                                   f"({problem}; truncated or changed); {hint}")
    except urllib.error.HTTPError as exc:
        raise DatasetError(f"{dataset.name}: cannot download {remote.name}: HTTP {exc.code} {exc.reason} "
                           f"from {url}; {hint}") from None
    except (urllib.error.URLError, http.client.HTTPException, socket.timeout, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DatasetError(f"{dataset.name}: cannot download {remote.name} from {url} (offline? {reason}); "
                           f"{hint}") from None


def download(dataset, cache=None, *, mirror: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Download, verify and prepare a corpus (a name of :data:`DATASETS` or a :class:`Dataset`);
    returns its folder, at once if the cache already holds it.

    Files already in the folder (placed by hand, or from an interrupted run) are kept if their
    checksums match. ``mirror`` (default ``$BILSTM_CRF_NER_MIRROR``) replaces the pinned URLs by
    ``<mirror>/<corpus>/<file>``. Raises :class:`DatasetError` (one line, naming the folder and
    files to place by hand) offline, on an HTTP error or a checksum mismatch.

    >>> download("conll2003", "/tmp/empty-cache")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bilstm_crf_ner.core.errors.DatasetError: CoNLL-2003 cannot be redistributed: ...
    """
    return _download(_dataset(dataset), cache, mirror, timeout)


def _download(dataset: Dataset, cache, mirror: str | None, timeout: float) -> Path:
    folder = cache_dir(cache) / dataset.name
    if _complete(dataset, folder):
        return folder
    if not dataset.files:
        raise DatasetError(f"{dataset.by_hand}; or put {', '.join(dataset.splits.values())} into {folder}")
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{dataset.name}: cannot create the cache folder {folder}: {exc.strerror or exc}; "
                           f"set {DATA_ENV} to a writable folder") from None
    for remote in dataset.files:
        target = folder / remote.name
        if target.is_file():
            problem = _verify(remote, target)
            if problem is None:
                continue
            logger.warning("%s in %s is not the pinned file (%s): downloading it again", remote.name, folder, problem)
        _fetch(dataset, remote, folder, _url(dataset, remote, mirror), timeout)
    if dataset.prepare is not None:
        dataset.prepare(folder)
    for name, expected in dataset.expected.items():
        got = _hash_file(folder / name, hashlib.sha256())
        if got != expected:
            (folder / name).unlink()
            raise DatasetError(f"{dataset.name}: {name} prepared in {folder} has sha256 {got}, expected {expected}; "
                               f"{_by_hand(dataset, folder)}")
    logger.info("%s ready in %s", dataset.name, folder)
    return folder


def dataset_path(dataset, data_dir=None, *, cache=None, download: bool = True, mirror: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> Path:
    """The folder of a corpus: ``data_dir``, else the corpus's environment variable (``MSRA_DIR``,
    ``CONLL2003_DIR``), else the cache, else (``download=True``) a fresh :func:`download`.

    >>> dataset_path("conll2003", "/no/such/folder")
    Traceback (most recent call last):
    ...
    bilstm_crf_ner.core.errors.DatasetError: conll2003: /no/such/folder lacks eng.train, eng.testa, eng.testb
    """
    dataset = _dataset(dataset)
    given = data_dir or (os.environ.get(dataset.env) if dataset.env else None)
    if given:
        folder = Path(given).expanduser()
        missing = [name for name in dataset.splits.values() if not (folder / name).is_file()]
        if missing:
            raise DatasetError(f"{dataset.name}: {folder} lacks {', '.join(missing)}")
        return folder
    folder = cached_path(dataset, cache)
    if folder is not None:
        return folder
    if not download:
        where = f"set {dataset.env}, " if dataset.env else ""
        raise DatasetError(f"{dataset.name} is not in the cache {cache_dir(cache) / dataset.name}: {where}"
                           f"pass its folder or run `bilstm-crf-ner download {dataset.name}`")
    return _download(dataset, cache, mirror, timeout)


def dataset_files(dataset, data_dir=None, **kwargs) -> dict:
    """``{split: path}`` of a corpus, located as :func:`dataset_path` does (same keyword arguments)."""
    dataset = _dataset(dataset)
    folder = dataset_path(dataset, data_dir, **kwargs)
    return {split: folder / name for split, name in dataset.splits.items()}


def load_dataset(dataset, split: str = "train", data_dir=None, **kwargs):
    """``(sentences, tags)`` of one split of a corpus, downloaded if needed (see :func:`dataset_path`).

    Column files are read with :func:`~bilstm_crf_ner.corpus.read_conll`; span formats (CLUENER
    JSON) with :func:`~bilstm_crf_ner.corpus.read_spans` (of overlapping entities the longest is
    kept) and tagged per character in BIO.
    """
    dataset = _dataset(dataset)
    if split not in dataset.splits:
        raise DatasetError(f"{dataset.name} has no split {split!r}; it has {', '.join(dataset.splits)}")
    path = dataset_files(dataset, data_dir, **kwargs)[split]
    if dataset.format == "conll":
        return read_conll(path)
    from .spans import read_spans, spans_to_tags

    texts, entities = read_spans(path, format=dataset.format, overlaps="longest")
    return spans_to_tags(texts, entities, token_unit="char")


_PINNED = re.compile(r"^https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/")


def is_pinned(url: str) -> bool:
    """Whether ``url`` names immutable bytes (a raw file at a full commit hash).

    >>> is_pinned("https://raw.githubusercontent.com/o/r/main/x"), is_pinned(DATASETS["msra"].files[0].url)
    (False, True)
    """
    return bool(_PINNED.match(url))
