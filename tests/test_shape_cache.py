"""The static-shape cache: least recently used models go beyond a count or a measured memory budget."""

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


def test_memory_budget_drops_the_least_recently_used():
    memory = FakeMemory()
    cache = StaticShapeCache(max_shapes=10, max_bytes=250, resident=memory)

    def compile_for(shape, size):
        def compile():
            memory.held[shape] = size
            return shape
        return compile

    assert cache.run((1, 16), compile_for((1, 16), 100), lambda m: m) == (1, 16)
    cache.run((1, 32), compile_for((1, 32), 100), lambda m: m)
    cache.run((1, 16), compile_for((1, 16), 100), lambda m: m)  # used again: now the most recent
    cache.run((1, 48), compile_for((1, 48), 100), lambda m: m)  # 300 > 250: (1, 32) goes
    assert cache.shapes() == [(1, 16), (1, 48)] and cache.held_bytes() == 200
    cache.run((2, 256), compile_for((2, 256), 1000), lambda m: m)  # over the budget alone: kept alone
    assert cache.shapes() == [(2, 256)] and cache.held_bytes() == 1000


def test_compiles_once_per_shape_and_counts_only_growth():
    compiled = []
    readings = iter([500, 400, 400, 700])  # memory fell during the first compile: cost 0, not -100
    cache = StaticShapeCache(max_shapes=4, max_bytes=None, resident=lambda: next(readings))
    for shape in [(1, 16), (1, 16), (1, 32), (1, 16)]:
        cache.run(shape, lambda shape=shape: compiled.append(shape) or shape, lambda m: m)
    assert compiled == [(1, 16), (1, 32)] and cache.held_bytes() == 300


def test_unreadable_memory_leaves_the_count_bound():
    cache = StaticShapeCache(max_shapes=2, max_bytes=1, resident=lambda: None)
    for length in (16, 32, 48):
        cache.run((1, length), lambda: "model", lambda m: m)
    assert len(cache) == 2 and cache.held_bytes() == 0
    with pytest.raises(ValueError, match="max_shapes"):
        StaticShapeCache(max_shapes=0, max_bytes=None)


def test_resident_bytes_reads_this_process():
    first = resident_bytes()
    assert first is not None and first > 1 << 20  # Linux CI: /proc is there
    block = bytearray(64 << 20)
    block[:: 4096] = b"x" * len(block[:: 4096])  # touch every page
    assert resident_bytes() - first > 48 << 20
    del block


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 400)), min_size=1, max_size=40),
       st.integers(1, 5), st.integers(1, 1500))
def test_bounds_hold_and_order_is_lru_against_a_reference(requests, max_shapes, max_bytes):
    """Against a brute-force model: a list in recency order, trimmed from the old end."""
    memory = FakeMemory()
    cache = StaticShapeCache(max_shapes=max_shapes, max_bytes=max_bytes, resident=memory)
    reference: list[tuple] = []  # (shape, size), least recent first
    for length, size in requests:
        shape = (1, length)

        def compile(shape=shape, size=size):
            memory.held[shape] = size
            return shape
        cache.run(shape, compile, lambda m: m)
        known = [item for item in reference if item[0] == shape]
        reference = [item for item in reference if item[0] != shape] + (known or [(shape, size)])
        while len(reference) > 1 and (len(reference) > max_shapes or sum(s for _, s in reference) > max_bytes):
            memory.held.pop(reference.pop(0)[0])
        assert cache.shapes() == [s for s, _ in reference]
        assert cache.held_bytes() == sum(s for _, s in reference)


def test_threads_share_one_compilation_per_shape():
    compiles = []
    cache = StaticShapeCache(max_shapes=3, max_bytes=None, resident=lambda: None)
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for length in (16, 32, 16, 32):
            assert cache.run((1, length), lambda length=length: compiles.append(length) or length, lambda m: m) == length

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(compiles) == [16, 32]
