"""The static-shape cache: shapes compiled while they fit a count and a measured memory budget,
the rest on the fallback (dynamic shapes); nothing evicted, nothing compiled twice."""

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_crf_ner.runtime.shape_cache import StaticShapeCache, resident_bytes


class FakeMemory:
    """Resident memory that grows by each compiled shape's size while it is held."""

    def __init__(self):
        self.held = {}

    def __call__(self):
        return 10_000 + sum(self.held.values())


def compiler(memory, compiled, shape, size):
    def compile():
        compiled.append(shape)
        memory.held[shape] = size
        return shape
    return compile


def test_memory_budget_admits_while_the_largest_cost_still_fits():
    memory, compiled = FakeMemory(), []
    cache = StaticShapeCache(max_shapes=10, max_bytes=250, resident=memory)

    def run(shape, size):
        return cache.run(shape, compiler(memory, compiled, shape, size), lambda m: ("static", m), lambda: "dynamic")

    assert run((1, 16), 100) == ("static", (1, 16))
    assert run((1, 32), 100) == ("static", (1, 32))  # 100 held + 100 largest <= 250
    assert run((1, 48), 10) == "dynamic"  # 200 held + 100 largest > 250: not compiled
    assert run((1, 16), 100) == ("static", (1, 16)) and run((1, 48), 10) == "dynamic"
    assert cache.shapes() == [(1, 16), (1, 32)] and cache.held_bytes() == 200 and compiled == [(1, 16), (1, 32)]


def test_a_shape_larger_than_estimated_is_dropped_and_never_recompiled():
    memory, compiled = FakeMemory(), []
    cache = StaticShapeCache(max_shapes=10, max_bytes=250, resident=memory)
    fallbacks = []

    def run(shape, size):
        return cache.run(shape, compiler(memory, compiled, shape, size), lambda m: m, lambda: fallbacks.append(shape))

    run((1, 16), 50)
    run((1, 256), 400)  # fits the estimate (50 + 50), measures 400: dropped after its first batch
    run((1, 256), 400)  # then the fallback, without compiling again
    assert compiled == [(1, 16), (1, 256)] and fallbacks == [(1, 256)]
    assert cache.shapes() == [(1, 16)] and cache.held_bytes() == 50
    alone = StaticShapeCache(max_shapes=10, max_bytes=250, resident=FakeMemory())
    alone.run((8, 512), lambda: "big", lambda m: m, lambda: "dynamic")  # a first shape is always kept
    assert alone.shapes() == [(8, 512)]


def test_compiles_once_per_shape_and_counts_only_growth():
    compiled = []
    readings = iter([500, 400, 400, 700])  # memory fell during the first compile: cost 0, not -100
    cache = StaticShapeCache(max_shapes=4, max_bytes=None, resident=lambda: next(readings))
    for shape in [(1, 16), (1, 16), (1, 32), (1, 16)]:
        cache.run(shape, lambda shape=shape: compiled.append(shape) or shape, lambda m: m, lambda: None)
    assert compiled == [(1, 16), (1, 32)] and cache.held_bytes() == 300


def test_unreadable_memory_leaves_the_count_bound():
    cache = StaticShapeCache(max_shapes=2, max_bytes=1, resident=lambda: None)
    got = [cache.run((1, n), lambda: "static", lambda m: m, lambda: "dynamic") for n in (16, 32, 48)]
    assert got == ["static", "static", "dynamic"] and len(cache) == 2 and cache.held_bytes() == 0
    with pytest.raises(ValueError, match="max_shapes"):
        StaticShapeCache(max_shapes=0, max_bytes=None)


def test_resident_bytes_reads_this_process():
    first = resident_bytes()
    assert first is not None and first > 1 << 20  # Linux CI: /proc is there
    block = bytearray(64 << 20)
    block[:: 4096] = b"x" * len(block[:: 4096])  # touch every page
    assert resident_bytes() - first > 48 << 20
    del block


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 400)), min_size=1, max_size=40),
       st.integers(1, 5), st.integers(1, 1500))
def test_admission_against_a_reference(requests, max_shapes, max_bytes):
    """Against a brute-force model of the policy; the budget holds once more than one shape is kept."""
    memory = FakeMemory()
    cache = StaticShapeCache(max_shapes=max_shapes, max_bytes=max_bytes, resident=memory)
    kept: dict = {}  # shape -> size, in admission order
    refused, largest = set(), 0
    for length, size in requests:
        shape = (1, length)
        got = cache.run(shape, compiler(memory, [], shape, size), lambda m: "static", lambda: "dynamic")
        if shape in kept:
            expected = "static"
        elif shape in refused or len(kept) >= max_shapes or (kept and sum(kept.values()) + largest > max_bytes):
            refused.add(shape)
            expected = "dynamic"
        else:
            expected, largest = "static", max(largest, size)
            kept[shape] = size
            if len(kept) > 1 and sum(kept.values()) > max_bytes:
                del kept[shape]
                memory.held.pop(shape)
                refused.add(shape)
        assert got == expected
        assert cache.shapes() == list(kept) and cache.held_bytes() == sum(kept.values())
        assert len(kept) <= max_shapes and (len(kept) <= 1 or cache.held_bytes() <= max_bytes)


def test_threads_share_one_compilation_per_shape():
    compiles = []
    cache = StaticShapeCache(max_shapes=3, max_bytes=None, resident=lambda: None)
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for length in (16, 32, 16, 32):
            assert cache.run((1, length), lambda length=length: compiles.append(length) or length,
                             lambda m: m, lambda: None) == length

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(compiles) == [16, 32]
