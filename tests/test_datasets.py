"""Corpus downloads (bilstm_crf_ner.datasets) against a local HTTP server on 127.0.0.1: never the internet.

The server serves fixture files made here; routes can serve corrupt bytes, drop the connection
mid-file or stall. Every test uses its own cache folder.
"""

import dataclasses
import hashlib
import http.server
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from bilstm_crf_ner.cli import main
from bilstm_crf_ner.core.errors import BilstmCrfNerError, DatasetError
from bilstm_crf_ner.corpus import datasets as ds
from bilstm_crf_ner.corpus import msra_files, read_conll
from bilstm_crf_ner.datasets import DATASETS, Dataset, RemoteFile, cache_dir, download, load_dataset

TRAIN = "张 B-PER\n三 I-PER\n好 O\n\n北 B-LOC\n京 I-LOC\n\n".encode()
TEST = "上 B-LOC\n海 I-LOC\n大 O\n\n".encode()


class Server:
    """``routes``: path -> (mode, body); mode ``ok``, ``drop`` (full Content-Length, half the
    body, then the connection closes), ``stall`` (headers, then silence) or ``missing`` (404)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                mode, body = outer.routes.get(self.path, ("missing", b""))
                if mode == "missing":
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "ok":
                    self.wfile.write(body)
                elif mode == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                elif mode == "stall":
                    self.wfile.flush()
                    time.sleep(2)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def serve(self, path, body, mode="ok"):
        self.routes[path] = (mode, body)
        return self.url + path


@pytest.fixture
def server():
    srv = Server()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (ds.DATA_ENV, ds.MIRROR_ENV, "MSRA_DIR", "CONLL2003_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)


def remote(name, body, url):
    return RemoteFile(name, url, len(body), hashlib.sha256(body).hexdigest())


def toy(server, train_mode="ok", train_body=TRAIN, name="toy"):
    """A two-file corpus; ``train_body`` is what the server sends, the checksums are TRAIN's."""
    files = (remote("train.bio", TRAIN, server.serve(f"/{name}/train.bio", train_body, train_mode)),
             remote("test.bio", TEST, server.serve(f"/{name}/test.bio", TEST)))
    return Dataset(name=name, title="toy corpus", license="CC0", homepage="http://127.0.0.1/",
                   splits={"train": "train.bio", "test": "test.bio"}, files=files)


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------------------------------- download

def test_download_lands_in_the_cache_and_is_not_repeated(server, tmp_path):
    folder = download(toy(server), tmp_path)
    assert folder == tmp_path / "toy"
    assert (folder / "train.bio").read_bytes() == TRAIN and (folder / "test.bio").read_bytes() == TEST
    assert leftovers(folder) == ["test.bio", "train.bio"]  # no temporary files
    assert len(server.requests) == 2
    assert download(toy(server), tmp_path) == folder
    assert len(server.requests) == 2  # the cache answered
    assert load_dataset(toy(server), "train", cache=tmp_path) == ([["张", "三", "好"], ["北", "京"]],
                                                                   [["B-PER", "I-PER", "O"], ["B-LOC", "I-LOC"]])


@pytest.mark.parametrize("mode, body, message", [
    ("ok", TRAIN.replace("好".encode(), "坏".encode()), "expected sha256"),  # same size, other bytes
    ("ok", TRAIN + b"\n", f"expected {len(TRAIN)} bytes, got {len(TRAIN) + 1}"),
    ("drop", TRAIN, f"(offline? the connection dropped after {len(TRAIN) // 2} of {len(TRAIN)} bytes)"),
])
def test_corrupt_or_truncated_downloads_leave_nothing(server, tmp_path, mode, body, message):
    with pytest.raises(DatasetError) as info:
        download(toy(server, mode, body), tmp_path)
    text = str(info.value)
    assert message in text and "\n" not in text
    assert f"save it in {tmp_path / 'toy'} as train.bio" in text  # how to place it by hand
    assert leftovers(tmp_path / "toy") == []  # neither the partial nor the corrupt file counts
    assert ds.cached_path(toy(server), tmp_path) is None


def test_offline_http_error_and_timeout_are_one_line_errors(server, tmp_path):
    dataset = toy(server)
    offline = dataclasses.replace(dataset, files=tuple(
        RemoteFile(f.name, closed_port_url() + "/x", f.size, f.sha256) for f in dataset.files))
    with pytest.raises(DatasetError, match=r"cannot download train.bio from http://127.0.0.1:\d+/x \(offline\?"):
        download(offline, tmp_path)
    missing = dataclasses.replace(dataset, files=(RemoteFile("train.bio", server.url + "/nothing", 3, "0" * 64),))
    with pytest.raises(DatasetError, match="HTTP 404"):
        download(missing, tmp_path)
    server.serve("/toy/train.bio", TRAIN, "stall")
    start = time.monotonic()
    with pytest.raises(DatasetError, match="offline"):
        download(dataset, tmp_path, timeout=0.3)
    assert time.monotonic() - start < 2
    assert leftovers(tmp_path / "toy") == []
    assert isinstance(DatasetError("x"), BilstmCrfNerError) and isinstance(DatasetError("x"), OSError)


def test_files_placed_by_hand_are_verified_and_used(server, tmp_path):
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "train.bio").write_bytes(TRAIN)        # right bytes: kept, not fetched
    (folder / "test.bio").write_bytes(b"wrong\n")    # wrong bytes: fetched again
    # a prepared corpus is complete as soon as its split files exist: make it need the download
    dataset = dataclasses.replace(toy(server), splits={"train": "train.txt"},
                                  prepare=lambda f: (f / "train.txt").write_bytes((f / "train.bio").read_bytes()))
    download(dataset, tmp_path)
    assert server.requests == ["/toy/test.bio"]
    assert (folder / "test.bio").read_bytes() == TEST and (folder / "train.txt").read_bytes() == TRAIN


def test_mirror_replaces_the_pinned_urls(server, tmp_path, monkeypatch):
    dataset = toy(server)
    elsewhere = dataclasses.replace(dataset, files=tuple(
        RemoteFile(f.name, "https://example.invalid/" + f.name, f.size, f.sha256) for f in dataset.files))
    download(elsewhere, tmp_path / "a", mirror=server.url)
    monkeypatch.setenv(ds.MIRROR_ENV, server.url)
    download(elsewhere, tmp_path / "b")
    assert server.requests == ["/toy/train.bio", "/toy/test.bio"] * 2


def test_git_blob_ids_verify_files_without_a_sha256(server, tmp_path):
    blob = hashlib.sha1(b"blob %d\0" % len(TRAIN) + TRAIN).hexdigest()
    url = server.serve("/blob/train.bio", TRAIN)
    dataset = Dataset(name="blob", title="t", license="l", homepage="h", splits={"train": "train.bio"},
                      files=(RemoteFile("train.bio", url, git_blob=blob),))
    assert (download(dataset, tmp_path) / "train.bio").read_bytes() == TRAIN
    wrong = dataclasses.replace(dataset, name="blob2", files=(RemoteFile("train.bio", url, git_blob="0" * 40),))
    with pytest.raises(DatasetError, match="expected git blob 0{40}, got " + blob):
        download(wrong, tmp_path)
    assert leftovers(tmp_path / "blob2") == []


def test_msra_is_converted_from_the_sighan_word_format(server, tmp_path):
    long_line = "，".join(["一二三四五六七八九"] * 12)  # 119 characters, no sentence end: cut at the last comma < 100
    train = f"中共中央/nt 致/o 中国致公党十一大/nt 的贺词/o\r\n他说：“好！”又说/o 邓小平/nr 。/o\r\n{long_line}/o\r\n"
    test = "在/o 北京/ns 召开。/o 会议结束！/o\r\n"
    files = (remote("train1.txt", train.encode(), server.serve("/m/train1.txt", train.encode())),
             remote("testright1.txt", test.encode(), server.serve("/m/testright1.txt", test.encode())))
    msra = DATASETS["msra"]
    dataset = dataclasses.replace(msra, name="m", files=files, expected={})
    x, y = load_dataset(dataset, "train", cache=tmp_path)
    assert ["".join(s) for s in x] == ["中共中央致中国致公党十一大的贺词", "他说：“好！”", "又说邓小平。",
                                       long_line[:90], long_line[90:]]
    assert y[0][:5] == ["B-ORG", "I-ORG", "I-ORG", "I-ORG", "O"] and y[2][2:5] == ["B-PER", "I-PER", "I-PER"]
    test_x, test_y = load_dataset(dataset, "test", cache=tmp_path)
    assert test_x == [list("在北京召开。会议结束！")] and test_y[0][:3] == ["O", "B-LOC", "I-LOC"]  # one line, one sentence


def test_span_corpora_are_tagged_per_character(server, tmp_path):
    body = '{"text": "叶老桂说", "label": {"name": {"叶老桂": [[0, 2]]}}}\n'.encode()
    files = tuple(remote(name, body, server.serve(f"/c/{name}", body)) for name in ("train.json", "dev.json"))
    dataset = dataclasses.replace(DATASETS["cluener"], name="c", files=files)
    assert load_dataset(dataset, "dev", cache=tmp_path) == ([list("叶老桂说")], [["B-name", "I-name", "I-name", "O"]])


def test_weibo_tokens_lose_their_segment_positions(tmp_path):
    for split in ("train", "dev", "test"):
        text = "科0\tB-ORG.NAM\n技1\tI-ORG.NAM\n５0\tO\n\n"
        (tmp_path / f"weiboNER_2nd_conll.{split}").write_text(text, encoding="utf-8")
    ds.prepare_weibo(tmp_path)
    assert read_conll(tmp_path / "dev.bio") == ([["科", "技", "５"]], [["B-ORG.NAM", "I-ORG.NAM", "O"]])


# ---------------------------------------------------------------------------------------- where

def test_cache_folder_default_xdg_and_environment_variable(tmp_path, monkeypatch, server):
    assert cache_dir() == Path.home() / ".cache" / "bilstm_crf_ner"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "bilstm_crf_ner"
    monkeypatch.setenv(ds.DATA_ENV, str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env" and cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert download(toy(server)) == tmp_path / "env" / "toy"


def test_msra_files_precedence(tmp_path, monkeypatch, msra):
    def corpus(folder):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "train.bio").write_bytes(TRAIN)
        (folder / "test.bio").write_bytes(TEST)
        return folder

    given, env, cached = corpus(tmp_path / "given"), corpus(tmp_path / "env"), tmp_path / "cache" / "msra"
    monkeypatch.setenv(ds.DATA_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(ds.MIRROR_ENV, closed_port_url())
    with pytest.raises(FileNotFoundError, match="MSRA_DIR"):  # nothing anywhere, no download asked for
        msra_files()
    with pytest.raises(DatasetError, match="offline"):        # the download is the last resort
        msra_files(download=True)
    assert not list(cached.glob("*.bio"))
    corpus(cached)
    assert msra_files()["train"] == cached / "train.bio"      # the cache, before any download
    monkeypatch.setenv("MSRA_DIR", str(env))
    assert msra_files(download=True)["test"] == env / "test.bio"  # MSRA_DIR wins over the cache
    assert msra_files(given, download=True)["train"] == given / "train.bio"  # and an explicit folder over it
    assert ds.dataset_path("msra") == env
    # The CLI's `train --msra` without a folder goes the same way: MSRA_DIR, cache, download.
    from bilstm_crf_ner.cli import build_parser

    assert build_parser().parse_args(["train", "--msra", "--output", "m"]).msra == ""
    monkeypatch.delenv("MSRA_DIR")
    from bilstm_crf_ner.corpus import write_conll

    write_conll(cached / "train.bio", *[part[:300] for part in msra[:2]])  # a real slice, so training works
    write_conll(cached / "test.bio", *[part[:50] for part in msra[2:]])
    code = main(["train", "--msra", "--output", str(tmp_path / "model"), "--epochs", "1", "-q"])
    assert code == 0 and (tmp_path / "model" / "bilstm_crf_ner.json").is_file()  # trained from the cached copy


def test_corpora_that_cannot_be_downloaded_name_the_folder(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match=r"cannot be redistributed.*put eng.train, eng.testa, eng.testb into "):
        ds.dataset_path("conll2003", cache=tmp_path)
    with pytest.raises(DatasetError, match="lacks eng.train, eng.testa, eng.testb"):
        ds.dataset_path("conll2003", tmp_path)
    for name in ("eng.train", "eng.testa", "eng.testb"):
        (tmp_path / name).write_text("-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n")
    monkeypatch.setenv("CONLL2003_DIR", str(tmp_path))
    assert load_dataset("conll2003", "dev") == ([["EU", "rejects"]], [["B-ORG", "O"]])
    with pytest.raises(DatasetError, match="unknown corpus 'nope'"):
        download("nope")
    with pytest.raises(DatasetError, match="no split 'dev'"):
        load_dataset("msra", "dev")


def test_not_downloading_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetError, match=r"resume is not in the cache .*bilstm-crf-ner download resume"):
        ds.dataset_path("resume", cache=tmp_path, download=False)


# ---------------------------------------------------------------------------------------- CLI

def test_cli_download(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ds, "DATASETS", {**DATASETS, "toy": toy(server)})
    assert main(["download", "toy", "--cache-dir", str(tmp_path), "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "toy")
    assert main(["download", "toy", "--cache-dir", str(tmp_path), "-q"]) == 0 and len(server.requests) == 2
    capsys.readouterr()
    assert main(["download", "--list", "--cache-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^toy +0\.0 MB +" + re.escape(str(tmp_path / "toy")), listing, re.M)
    assert re.search(r"^conll2003 +by hand", listing, re.M) and "CC BY 4.0" in listing

    # a real registry entry through a mirror serving the wrong bytes: exit 2, one line
    server.serve("/resume/train.char.bmes", b"not the resume corpus\n")
    assert main(["download", "resume", "--cache-dir", str(tmp_path), "--mirror", server.url, "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bilstm-crf-ner download: error: resume: train.char.bmes downloaded from") and "\n" not in err
    assert "https://raw.githubusercontent.com/jiesutd/LatticeLSTM/" in err  # where to get it by hand
    assert leftovers(tmp_path / "resume") == []
    assert main(["download", "--cache-dir", str(tmp_path)]) == 2


# ---------------------------------------------------------------------------------------- registry

def test_every_registry_entry_is_pinned_sized_and_checksummed():
    assert {"msra", "weibo", "resume", "cluener", "wnut17", "peoples_daily", "conll2003"} <= set(DATASETS)
    without_sha256 = []
    for name, dataset in DATASETS.items():
        assert dataset.name == name and dataset.splits and dataset.license and dataset.title
        assert dataset.files or dataset.by_hand, name
        for remote in dataset.files:
            assert ds.is_pinned(remote.url), remote.url
            assert re.search(r"/[0-9a-f]{40}/", remote.url)
            if remote.sha256 is None:
                assert re.fullmatch(r"[0-9a-f]{40}", remote.git_blob or ""), remote
                without_sha256.append(f"{name}/{remote.name}")
            else:
                assert re.fullmatch(r"[0-9a-f]{64}", remote.sha256) and remote.size > 0, remote
        names = [remote.name for remote in dataset.files]
        assert len(set(names)) == len(names)
    # files over the size whose bytes could be read when the entries were written (see docs/data.md)
    assert without_sha256 == ["msra/train1.txt", "peoples_daily/example.train"]
