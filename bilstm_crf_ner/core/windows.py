"""Overlapping windows for encoders with a length limit (BERT), and merging them back.

A text longer than the encoder's limit is cut into windows of whole tokens that overlap, each
window is scored on its own, and every token takes its emission scores from the window where
it sits farthest from an edge (most context on both sides). One Viterbi pass then decodes the
merged scores of the whole text, so every token gets a tag and an entity that crosses a window
boundary is found whole. Nothing here imports TensorFlow.

>>> plan_windows([1] * 10, max_pieces=4, overlap=2)
[(0, 4), (2, 6), (4, 8), (6, 10)]
>>> plan_windows([1] * 3, max_pieces=4, overlap=2)
[(0, 3)]
>>> import numpy as np
>>> merged = merge_windows([(0, 4), (2, 6)], [np.full((4, 1), 1.0), np.full((4, 1), 2.0)], 6)
>>> merged[:, 0].tolist()
[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def plan_windows(piece_counts: Sequence[int], max_pieces: int, overlap: int, cut_ok: Sequence[bool] | None = None):
    """Token ranges ``[(start, stop), ...]`` covering all tokens, each with at most ``max_pieces`` pieces.

    Consecutive windows share about ``overlap`` pieces. ``cut_ok[t]`` says whether a window may
    start or stop at token ``t`` (e.g. not inside an entity, for training chunks); a cut is
    moved back to the nearest allowed position when there is one in the window.
    A single token longer than ``max_pieces`` must have been capped by the caller.
    """
    counts = np.asarray(piece_counts, dtype=np.int64)
    n = len(counts)
    if n == 0 or counts.sum() <= max_pieces:
        return [(0, n)]
    if counts.max() > max_pieces:
        raise ValueError(f"a token has {counts.max()} pieces, more than a window's {max_pieces}")
    ends = np.cumsum(counts)  # pieces up to and including token t
    windows, start = [], 0
    while True:
        before = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, before + max_pieces, side="right"))  # first token that does not fit
        if stop >= n:
            windows.append((start, n))
            return windows
        if cut_ok is not None:
            allowed = [t for t in range(stop, start, -1) if cut_ok[t]]
            stop = allowed[0] if allowed else stop
        windows.append((start, stop))
        # The next window shares about `overlap` pieces, starts after this one and reaches past its end.
        shared_from = int(np.searchsorted(ends, ends[stop - 1] - overlap, side="right"))
        need = ends[stop] - max_pieces  # pieces before the next start, for token `stop` to fit
        reaches_past = 0 if need <= 0 else int(np.searchsorted(ends, need, side="left")) + 1
        start = min(max(shared_from, reaches_past, start + 1), stop)


def merge_windows(windows: Sequence[tuple[int, int]], window_scores: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Scores ``[length, K]`` where each token's row comes from its most central window."""
    merged = np.zeros((length,) + window_scores[0].shape[1:], dtype=window_scores[0].dtype)
    best = np.full(length, -1, dtype=np.int64)
    for (start, stop), scores in zip(windows, window_scores):
        positions = np.arange(start, stop)
        centrality = np.minimum(positions - start, stop - 1 - positions)
        better = centrality > best[start:stop]
        merged[positions[better]] = scores[better]
        best[start:stop] = np.maximum(best[start:stop], centrality)
    return merged
