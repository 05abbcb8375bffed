"""Public NER corpora, downloaded on first use: pinned URLs, verified checksums, a local cache.

The implementation lives in :mod:`bilstm_crf_ner.corpus.datasets` (TensorFlow-free); this is
the short name the documentation uses. ``bilstm-crf-ner download NAME`` does the same from the
shell; docs/data.md lists the corpora, their sources and licenses.

>>> from bilstm_crf_ner.datasets import DATASETS, cache_dir
>>> "msra" in DATASETS and cache_dir("/data/corpora").name == "corpora"
True

With the internet (or the files placed by hand in the cache)::

    from bilstm_crf_ner.datasets import download, load_dataset
    download("msra")                              # the folder: ~/.cache/bilstm_crf_ner/msra
    x, y = load_dataset("resume", "dev")          # lists of token lists, lists of tag lists
"""

from ..corpus.datasets import (DATA_ENV, DATASETS, MIRROR_ENV, Dataset, DatasetError, RemoteFile, cache_dir,
                               cached_path, dataset_files, dataset_path, download, load_dataset)

__all__ = ["DATA_ENV", "DATASETS", "MIRROR_ENV", "Dataset", "DatasetError", "RemoteFile", "cache_dir", "cached_path",
           "dataset_files", "dataset_path", "download", "load_dataset"]
