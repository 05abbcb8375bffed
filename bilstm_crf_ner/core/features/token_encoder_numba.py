"""The character encoder's table lookups compiled with numba: character ids and bigram ids of a
whole batch in one pass over its code points.

:class:`~bilstm_crf_ner.core.features.token_encoder.TokenEncoder` does the same in numpy with a
handful of array operations (character table, bigram keys, hash probing, masking), each a pass
over the batch, which right after a model run meets cold caches every time; here one loop builds
the character ids and bigram keys and :func:`~.hashtable_numba.get_into` looks the keys up. The
same table, the same hash slots probed in the same order, so the ids are identical
(``tests/test_features.py`` holds the two paths to each other). numba is the optional ``[fast]``
extra; compiled code is cached on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np

from ..vocab import UNK_ID
from .codes import CODE_POINT_BITS
from .hashtable_numba import get_into, shift_and_mask


@numba.njit(cache=True, nogil=True)
def _character_ids(codes, counts, char_ids, with_bigrams, keys, values, shift, mask, end_code,
                   out):  # pragma: no cover - compiled
    total = codes.shape[0]
    wanted = np.empty(total if with_bigrams else 0, dtype=np.int64)
    stop, sentence = 0, 0
    for i in range(total):
        while i >= stop:  # the end of the sentence holding position i (counts sum to total)
            stop += counts[sentence]
            sentence += 1
        code = codes[i]
        out[i, 0] = char_ids[code] if code < char_ids.shape[0] else UNK_ID
        if with_bigrams:
            wanted[i] = (code << CODE_POINT_BITS) | (codes[i + 1] if i + 1 < stop else end_code)
    if with_bigrams:
        get_into(keys, values, shift, mask, wanted, UNK_ID, out[:, 1])


def character_ids(codes: np.ndarray, counts: np.ndarray, char_ids: np.ndarray, bigram_table, end_code: int,
                  out: np.ndarray) -> None:
    """Fill ``out[:, 0]`` with each character's id (``char_ids[code]``, the unknown id beyond the
    table) and, with a ``bigram_table`` (an ``IntHashTable``'s slot arrays), ``out[:, 1]`` with
    the id of ``pack(code, next code)`` (``end_code`` after a sentence's last character; the
    unknown id where absent). ``codes``: the code points of all sentences joined; ``counts``:
    characters per sentence."""
    with_bigrams = bigram_table is not None
    keys, values = bigram_table if with_bigrams else (np.zeros(16, np.int64), np.zeros(16, np.int64))
    _character_ids(np.ascontiguousarray(codes, dtype=np.int64), np.ascontiguousarray(counts, dtype=np.int64),
                   char_ids, with_bigrams, keys, values, *shift_and_mask((keys, values)), np.int64(end_code), out)
