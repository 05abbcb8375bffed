"""Row slices across CPU streams (runtime.row_streams): splitting and joining are exact, slices
run concurrently on separate threads, errors reach the caller."""

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.runtime.row_streams import RowStreams, join_rows, split_rows


@settings(max_examples=200, deadline=None)
@given(rows=st.integers(1, 40), width=st.integers(1, 9), parts=st.integers(1, 6), equal=st.booleans())
def test_split_then_join_gives_the_batch_back(rows, width, parts, equal):
    ids = np.arange(rows * width * 2).reshape(rows, width, 2)
    slices = split_rows(ids, parts, equal)
    assert all(s.shape[1:] == ids.shape[1:] for s in slices)
    if equal:  # one shape for every slice (one static-shape model per length), no slice all filler
        assert len({s.shape for s in slices}) == 1 and len(slices) <= min(parts, rows)
        assert slices[0].shape[0] == -(-rows // min(parts, rows)) and (len(slices) - 1) * slices[0].shape[0] < rows
    else:  # every stream gets work, as evenly as it goes
        assert len(slices) == min(parts, rows) and sum(s.shape[0] for s in slices) == rows
        assert max(s.shape[0] for s in slices) - min(s.shape[0] for s in slices) <= 1
    assert np.array_equal(join_rows(slices, rows), ids)


@settings(max_examples=100, deadline=None)
@given(widths=st.lists(st.integers(1, 12), min_size=1, max_size=5), rows=st.integers(1, 4))
def test_join_pads_narrower_slices_with_zeros_beyond_their_width(widths, rows):
    outputs = [np.full((rows, w, 3), i + 1.0) for i, w in enumerate(widths)]
    joined = join_rows(outputs, rows * len(widths))
    assert joined.shape == (rows * len(widths), max(widths), 3)
    for i, w in enumerate(widths):
        block = joined[i * rows:(i + 1) * rows]
        assert (block[:, :w] == i + 1).all() and (block[:, w:] == 0).all()


def test_slices_run_at_once_on_separate_threads_and_batches_come_back_in_order():
    streams = RowStreams(2)
    threads, both = set(), threading.Barrier(2, timeout=10)

    def infer(part):
        threads.add(threading.get_ident())
        both.wait()  # deadlocks (BrokenBarrierError) unless two slices run at the same time
        return part[..., None].astype(np.float32) * 2

    batches = [np.arange(8).reshape(4, 2), np.arange(6).reshape(2, 3) + 100]
    done = []
    out = streams.run(infer, batches, on_done=lambda: done.append(1))
    assert [o[..., 0].tolist() for o in out] == [(b * 2).tolist() for b in batches]
    assert len(threads) == 2 and len(done) == 2
    streams.close()
    assert streams.run(lambda p: p[..., None] * 1.0, [np.ones((3, 2))])[0].shape == (3, 2, 1)  # restarts
    streams.close()


def test_an_error_in_a_slice_reaches_the_caller():
    streams = RowStreams(2)

    def infer(part):
        if part[0, 0] >= 2:
            raise RuntimeError("slice failed")
        time.sleep(0.01)
        return part[..., None] * 1.0

    with pytest.raises(RuntimeError, match="slice failed"):
        streams.run(infer, [np.arange(8).reshape(4, 2)])
    streams.close()


def test_after_an_error_queued_slices_are_cancelled_not_run():
    """Only the slices of the next ``AHEAD`` batches are queued, and they are cancelled when a
    slice fails (an interrupt takes the same path): the rest of a long input is never run."""
    streams, ran = RowStreams(2), []

    def infer(part):
        ran.append(int(part[0, 0]))
        if part[0, 0] == 0:
            raise RuntimeError("first slice failed")
        time.sleep(0.05)
        return part[..., None] * 1.0

    batches = [np.full((2, 3), i) for i in range(20)]
    with pytest.raises(RuntimeError, match="first slice failed"):
        streams.run(infer, batches)
    streams.close()  # waits for whatever was running
    assert len(ran) <= 2 * (RowStreams.AHEAD + 1)  # not the 40 slices of all 20 batches
    with pytest.raises(ValueError, match="at least 2"):
        RowStreams(1)
