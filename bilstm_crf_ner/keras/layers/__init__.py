"""Keras layers of the tagger: the CRF and a length-aware BiLSTM."""

from .bilstm import LengthAwareBiLSTM
from .crf import CRF, crf_decode, crf_log_likelihood

__all__ = ["CRF", "LengthAwareBiLSTM", "crf_decode", "crf_log_likelihood"]
