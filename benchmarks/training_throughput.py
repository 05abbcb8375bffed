"""Benchmark: training throughput of the library vs a naive Keras tagger, in real tokens per second.

Both runs in one process, same machine, same network size (character embedding + BiLSTM):

* naive: every sentence padded to the corpus's longest one, random batches, softmax head (what a
  hand-rolled Keras tagger does);
* library: length-bucketed batches padded per batch, CRF head (``BLSTMCRFModel.fit``).

Each is warmed up on a few batches (graph tracing), then timed over the same sentences for one
epoch; only real (non-padding) tokens are counted. Writes JSON and prints the ratio.

    python benchmarks/training_throughput.py --data-dir ../shared/data/msra --sentences 12800

``--smoke`` runs both on 64 sentences with a 16-wide network (a test, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, __version__, read_conll
from bilstm_crf_ner.core.batching import pad_batch
from bilstm_crf_ner.core.tags import convert_tags
from bilstm_crf_ner.corpus import msra_files

import _smoke as smoke


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: $MSRA_DIR)")
    parser.add_argument("--sentences", type=int, default=12800, help="training sentences timed per run")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--lstm-units", type=int, default=256)
    parser.add_argument("--output", default="benchmarks/results/training_throughput.json")
    return smoke.parse_args(parser, argv, sentences=smoke.SENTENCES, batch_size=32, embedding_dim=16, lstm_units=16)


def naive_epoch_seconds(x, y, args, rng):
    """One epoch of the naive tagger (global padding, softmax head), after a warm-up."""
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=args.embedding_dim), lstm_units=args.lstm_units, head="softmax",
                          seed=1)
    model.fit(x[:args.batch_size], y[:args.batch_size], epochs=1, batch_size=args.batch_size, verbose=0)  # build
    width = max(len(s) for s in x)
    encoder = model.predictor.encoder
    ids = pad_batch([np.pad(encoder.encode(s), (0, width - len(s))) for s in x])
    index = {tag: i for i, tag in enumerate(model.tags)}
    tag_ids = [np.array([index[t] for t in convert_tags(tags, "BIO", model.tag_scheme)], dtype=np.int32) for tags in y]
    tags = pad_batch([np.pad(t, (0, width - len(t))) for t in tag_ids])
    order = rng.permutation(len(x))
    dataset = tf.data.Dataset.from_tensor_slices((ids[order], tags[order])).batch(args.batch_size).prefetch(2)
    model.network.fit(dataset.take(3), epochs=1, verbose=0)  # warm-up: trace the train step at this shape
    start = time.perf_counter()
    history = model.network.fit(dataset, epochs=1, verbose=0)
    return time.perf_counter() - start, width, history.history["loss"][-1]


def library_epoch_seconds(x, y, args):
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=args.embedding_dim), lstm_units=args.lstm_units, seed=1)
    model.fit(x[: args.batch_size * 20], y[: args.batch_size * 20], epochs=1, batch_size=args.batch_size, verbose=0)  # warm-up
    start = time.perf_counter()
    history = model.fit(x, y, epochs=1, batch_size=args.batch_size, verbose=0)
    return time.perf_counter() - start, history.history["loss"][-1]


def main(argv=None):
    args = parse_args(argv)
    files = msra_files(args.data_dir)
    x, y = read_conll(files["train"])
    x, y = x[: args.sentences], y[: args.sentences]
    tokens = sum(len(s) for s in x)
    rng = np.random.default_rng(0)
    naive_seconds, width, naive_loss = naive_epoch_seconds(x, y, args, rng)
    library_seconds, library_loss = library_epoch_seconds(x, y, args)
    result = {
        "library_version": __version__, "machine": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "config": vars(args), "sentences": len(x), "real_tokens": tokens, "global_max_length": width,
        "padding_share_naive": round(1 - tokens / (len(x) * width), 3),
        "naive_softmax_global_padding": {"seconds": round(naive_seconds, 2), "tokens_per_second": round(tokens / naive_seconds, 1),
                                         "final_loss": round(naive_loss, 4)},
        "library_crf_bucketed": {"seconds": round(library_seconds, 2), "tokens_per_second": round(tokens / library_seconds, 1),
                                 "final_loss": round(library_loss, 4)},
        "speedup": round(naive_seconds / library_seconds, 2),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
