"""Reading and writing data (TensorFlow-free): CoNLL column files, pretrained word vectors.

>>> from bilstm_crf_ner.corpus import read_conll, write_conll
"""

from .conll import msra_files, read_conll, write_conll
from .vectors import read_word2vec

__all__ = ["msra_files", "read_conll", "read_word2vec", "write_conll"]
