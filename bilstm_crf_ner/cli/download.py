"""Download a public NER corpus (pinned copy, checksums verified) into the cache; print its folder.

examples:
  bilstm-crf-ner download msra
  bilstm-crf-ner download --list
  bilstm-crf-ner download resume --cache-dir /data/corpora
  python examples/train_msra.py --data-dir "$(bilstm-crf-ner download msra -q)" --epochs 25

The cache is $BILSTM_CRF_NER_DATA, else ~/.cache/bilstm_crf_ner (under $XDG_CACHE_HOME if set);
a corpus already there is not downloaded again. Offline, or on a checksum mismatch, the error
says which files to place by hand and where. $BILSTM_CRF_NER_MIRROR (or --mirror URL) fetches
URL/NAME/FILE instead of the pinned URLs, with the same checksums. CoNLL-2003 cannot be
redistributed: pass your own copy's folder to the commands instead. See docs/data.md.
"""

from __future__ import annotations

import argparse

from ..corpus import datasets
from .common import UsageError

NAME = "download"
HELP = "download a public corpus (MSRA, Weibo, Resume, CLUENER, WNUT-17) into the cache and print its folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help=f"corpus: {', '.join(sorted(datasets.DATASETS))}")
    parser.add_argument("--cache-dir", metavar="DIR", default=None,
                        help=f"cache folder (default: ${datasets.DATA_ENV} or ~/.cache/bilstm_crf_ner)")
    parser.add_argument("--mirror", metavar="URL", default=None,
                        help=f"fetch URL/NAME/FILE instead of the pinned URLs (default: ${datasets.MIRROR_ENV})")
    parser.add_argument("--timeout", type=float, default=datasets.DEFAULT_TIMEOUT, help="seconds without data")
    parser.add_argument("--list", action="store_true", help="list the corpora, their licenses and where they are")


def _size(dataset) -> str:
    sizes = [remote.size for remote in dataset.files]
    if not sizes:
        return "by hand"
    return f"{sum(s or 0 for s in sizes) / 1e6:.1f} MB" + ("+" if None in sizes else "")


def _list(args) -> int:
    root = datasets.cache_dir(args.cache_dir)
    rows = [("name", "size", "where", "license")]
    for name in sorted(datasets.DATASETS):
        dataset = datasets.DATASETS[name]
        cached = datasets.cached_path(dataset, args.cache_dir)
        rows.append((name, _size(dataset), str(cached) if cached else "-", dataset.license))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    print(f"cache: {root}")
    return 0


def run(args) -> int:
    if args.list:
        return _list(args)
    if not args.name:
        raise UsageError(f"name a corpus ({', '.join(sorted(datasets.DATASETS))}) or give --list")
    folder = datasets.download(args.name, args.cache_dir, mirror=args.mirror, timeout=args.timeout)
    print(folder)
    return 0
