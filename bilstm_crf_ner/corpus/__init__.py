"""Reading and writing data (TensorFlow-free): CoNLL column files, pretrained word vectors.

>>> from bilstm_crf_ner.corpus import read_conll, write_conll
"""

from .conll import msra_files, read_conll, write_conll
from .datasets import DATASETS, DatasetError, dataset_files, dataset_path, download, load_dataset
from .spans import Span, align_spans, detect_format, dumps_spans, read_spans, spans_to_tags, tags_to_spans, write_spans
from .vectors import read_word2vec

__all__ = ["msra_files", "read_conll", "read_word2vec", "write_conll"]
__all__ += ["Span", "align_spans", "detect_format", "dumps_spans", "read_spans", "spans_to_tags", "tags_to_spans",
            "write_spans"]
__all__ += ["DATASETS", "DatasetError", "dataset_files", "dataset_path", "download", "load_dataset"]
