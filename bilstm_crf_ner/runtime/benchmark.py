"""Speed of a tagger on real text: model-only and end-to-end times, batch-1 latency.

Works for an exported :class:`~bilstm_crf_ner.runtime.Tagger` and for a Keras
:class:`~bilstm_crf_ner.BLSTMCRFModel` alike (both predict through a
:class:`~bilstm_crf_ner.core.predictor.Predictor`), so the two are timed by the same code. Imports no TensorFlow.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

from ..core.batching import pad_batch
from ..core.inference import run_in_batches


def median_ms(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``run()`` in milliseconds, after one warm-up call."""
    return interleaved_ms([run], repeats)[0]


def benchmark_batch(texts: Sequence[str], batch_size: int = 16, max_length: int = 128) -> list[str]:
    """``batch_size`` texts cut to ``max_length`` characters, longest texts first (a full batch
    of near-equal lengths, as in the 16 x 128 measurements of the deployment write-ups)."""
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("no non-empty texts to benchmark on")
    chosen = sorted(texts, key=len, reverse=True)[:batch_size]
    while len(chosen) < batch_size:
        chosen.append(chosen[len(chosen) % len(chosen)])
    return [t[:max_length] for t in chosen]


def _reducer(statistic: str):
    """``np.median`` for ``"median"``, ``np.min`` for ``"min"`` (the fastest round)."""
    if statistic not in ("median", "min"):
        raise ValueError(f"statistic must be 'median' or 'min', not {statistic!r}")
    return np.median if statistic == "median" else np.min


def interleaved_times(runs: Sequence[Callable[[], object]], repeats: int,
                      warm: Sequence[Callable[[], object]] | None = None) -> list[list[float]]:
    """Wall times (ms) of ``repeats`` calls of each of ``runs``, timed in turn within each repeat
    (after one warm-up round), so a slow spell of a shared machine hits all of them alike.
    ``warm`` (one callable per run) is called untimed at the start of each of that run's turns:
    the previous engine's idle threads spin on for a while (ONNX Runtime's and TensorFlow's
    pools do) and would otherwise slow the first timed call after them."""
    if warm is not None and len(warm) != len(runs):
        raise ValueError("warm needs one callable per run")
    times = [[] for _ in runs]
    for repeat in range(max(1, repeats) + 1):
        for i, (run, out) in enumerate(zip(runs, times)):
            if warm is not None:
                warm[i]()
            start = time.perf_counter()
            run()
            if repeat:
                out.append((time.perf_counter() - start) * 1e3)
    return times


def interleaved_ms(runs: Sequence[Callable[[], object]], repeats: int, statistic: str = "median",
                   warm: Sequence[Callable[[], object]] | None = None) -> list[float]:
    """Median (``statistic="median"``) or fastest (``"min"``) of :func:`interleaved_times`. The
    fastest time suits choosing between runs: other work on the machine only ever adds time,
    and a spell may still fall on one run more than another."""
    reduce = _reducer(statistic)
    return [float(reduce(t)) for t in interleaved_times(runs, repeats, warm)]


def measure(tagger, texts: Sequence[str], batch_size: int = 16, max_length: int = 128, repeats: int = 20,
            statistic: str = "median") -> dict:
    """Times (ms; medians, or fastest rounds with ``statistic="min"``) of ``tagger`` on a
    ``batch_size`` x ``max_length`` batch of ``texts``.

    - ``model_only_ms``: padded ids -> emissions (the backend or Keras network alone);
    - ``end_to_end_ms``: raw strings -> tags (tokenize, run, constrained Viterbi);
    - ``tokenize_decode_ms`` and ``tokenize_decode_share``: the part of end-to-end not spent in
      the model: medians over rounds of each round's difference and share (the model-only and
      end-to-end calls of a round run moments apart, so a busy spell of a shared machine that
      moves whole medians by more than this part cancels out);
    - ``batch1_latency_ms``: the first text alone, end to end (same ``statistic``);
    - ``sentences_per_s``: ``batch_size`` / end-to-end time.

    Model-only and end-to-end runs alternate, so their difference is not machine noise.
    """
    return measure_many([tagger], texts, batch_size, max_length, repeats, statistic)[0]


def measure_many(taggers: Sequence, texts: Sequence[str], batch_size: int = 16, max_length: int = 128,
                 repeats: int = 20, statistic: str = "median") -> list[dict]:
    """:func:`measure` for each of ``taggers``, all timed in one rotation: within each repeat
    every tagger runs its model alone and end to end, then the next tagger, so a slow spell of
    a shared machine falls on all of them alike and their ratios hold. Each turn starts with an
    untimed model call: the first call after another engine's shares the CPU with that engine's
    idle threads, which spin on for a while (ONNX Runtime's and TensorFlow's pools do). Each result also has
    its ``end_to_end_rounds_ms``, for ratios taken round by round (:func:`paired_speedup`)."""
    reduce = _reducer(statistic)
    batch = benchmark_batch(texts, batch_size, max_length)
    single = [next(t for t in texts if t.strip())[:max_length]]
    runs, warm, shapes = [], [], []
    for tagger in taggers:
        encoder, scorer = tagger.predictor.encoder, tagger.predictor.scorer
        ids = pad_batch(encoder.encode_many([encoder.tokenize(t)[0] for t in batch]))
        shapes.append(list(ids.shape[:2]))
        model = lambda scorer=scorer, ids=ids: scorer.emissions(ids)  # noqa: E731
        runs += [model, lambda tagger=tagger: tagger.predict(batch, batch_size=batch_size)]
        warm += [model, lambda: None]  # the turn opens with an untimed model call
    times = interleaved_times(runs, repeats, warm)
    alone = [lambda tagger=tagger: tagger.predict(single) for tagger in taggers]
    latencies = interleaved_ms(alone, repeats * 3, statistic, warm=alone)
    results = []
    for i, shape in enumerate(shapes):
        model_times, end_to_end_times = times[2 * i], times[2 * i + 1]
        model_only, end_to_end = float(reduce(model_times)), float(reduce(end_to_end_times))
        rounds_model, rounds_end_to_end = np.asarray(model_times), np.asarray(end_to_end_times)
        outside_model = float(np.median(np.maximum(0.0, rounds_end_to_end - rounds_model)))
        share = float(np.median(np.maximum(0.0, 1 - rounds_model / rounds_end_to_end)))
        results.append({
            "batch_shape": shape, "model_only_ms": model_only, "end_to_end_ms": end_to_end,
            "tokenize_decode_ms": outside_model, "tokenize_decode_share": share,
            "batch1_latency_ms": latencies[i], "sentences_per_s": batch_size / end_to_end * 1e3,
            "end_to_end_rounds_ms": [float(t) for t in end_to_end_times],
        })
    return results


def paired_speedup(reference_ms: Sequence[float], other_ms: Sequence[float]) -> float:
    """Median over rounds of ``reference / other``, for times taken in turns round by round: on a
    machine whose speed changes from one second to the next (other tenants, CPU steal), the
    ratio of two calls made moments apart is steadier than the ratio of medians or of minima."""
    if len(reference_ms) != len(other_ms) or not len(reference_ms):
        raise ValueError("paired_speedup needs the same number (> 0) of rounds for both")
    return float(np.median(np.asarray(reference_ms, float) / np.asarray(other_ms, float)))


def bulk_batches(tagger, texts: Sequence[str], batch_size: int = 64) -> list[np.ndarray]:
    """The padded id batches ``tagger.predict(texts, batch_size)`` runs its model on: every
    window of every text, in length-sorted batches (texts of one window are batched apart from
    the windows of long ones in ``predict``; here they share batches, a negligible difference)."""
    encoder = tagger.predictor.encoder
    tokens = [encoder.tokenize(text)[0] for text in texts]
    parts = [sentence[start:stop] for sentence in tokens for start, stop in encoder.windows(sentence)]
    batches: list[np.ndarray] = []

    def keep(padded, lengths):
        batches.extend(padded)
        return [[None] * len(n) for n in lengths]

    run_in_batches(encoder.encode_many(parts), [len(p) for p in parts], keep, batch_size)
    return batches


def bulk_seconds(taggers: dict, texts: Sequence[str], rounds: int = 2, batch_size: int = 64,
                 chunk_size: int = 256) -> dict:
    """How long each of ``taggers`` (name -> tagger) takes to tag all of ``texts`` (mixed lengths,
    as users send them), and how much of that its model alone takes on the same padded batches
    (:func:`bulk_batches`).

    The texts are tagged ``chunk_size`` at a time and the taggers take turns chunk by chunk
    (each turn: an untimed model call on one batch, the chunk's batches through the model alone,
    then ``predict`` on the chunk), so a turn lasts a second or so and a slow spell of a shared
    machine falls on all taggers alike; whole-corpus turns of several seconds let one spell land
    on one engine. The chunks are cut from the texts in order of length, as one ``predict`` over
    all of them batches them, so chunking adds no padding (chunks of randomly mixed lengths
    would pad every batch to its longest text). Returns ``{name: {"seconds", "model_seconds",
    "chunk_seconds"}}``: the fastest round's totals and the per-chunk ``predict`` times of every
    round but the first where there are several (the first compiles static shapes as it meets
    them), in the same order for every tagger, for chunk-by-chunk ratios (:func:`paired_speedup`).
    One warm-up call per tagger first."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    by_length = sorted(texts, key=len)
    chunks = [by_length[i:i + chunk_size] for i in range(0, len(by_length), chunk_size)]
    batches = {}
    for name, tagger in taggers.items():
        tagger.predict(list(texts[:batch_size]), batch_size=batch_size)
        batches[name] = [bulk_batches(tagger, chunk, batch_size) for chunk in chunks]
    totals = {name: [] for name in taggers}
    chunk_times = {name: [] for name in taggers}
    rounds = max(1, rounds)
    for round_index in range(rounds):
        spent = {name: [0.0, 0.0] for name in taggers}
        for c, chunk in enumerate(chunks):
            for name, tagger in taggers.items():
                scorer = tagger.predictor.scorer
                if batches[name][c]:
                    scorer.emissions(batches[name][c][0])
                start = time.perf_counter()
                scorer.emissions_many(batches[name][c])
                model = time.perf_counter() - start
                start = time.perf_counter()
                tagger.predict(chunk, batch_size=batch_size)
                whole = time.perf_counter() - start
                spent[name][0] += whole
                spent[name][1] += model
                if round_index or rounds == 1:
                    chunk_times[name].append(whole)
        for name in taggers:
            totals[name].append(spent[name])
    return {name: {"seconds": min(t[0] for t in totals[name]), "model_seconds": min(t[1] for t in totals[name]),
                   "chunk_seconds": chunk_times[name]} for name in taggers}


def latency_ms(tagger, texts: Sequence[str], count: int = 200) -> dict:
    """Batch-1 latency (ms) of ``tagger`` over up to ``count`` single texts: p50, p99 and mean."""
    chosen = [t for t in texts if t.strip()][:count]
    if not chosen:
        raise ValueError("no non-empty texts to time")
    tagger.predict(chosen[:1])
    times = []
    for text in chosen:
        start = time.perf_counter()
        tagger.predict([text])
        times.append((time.perf_counter() - start) * 1e3)
    return {"p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99)),
            "mean": float(np.mean(times)), "count": len(times)}
