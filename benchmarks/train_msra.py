"""Benchmark: character BiLSTM-CRF on the full MSRA corpus.

Two measurements in one process on one machine:

1. Head cost: the same network trained with the CRF head and with a softmax head on the
   same batches (after a warm-up), timed per head; reports the time ratio CRF / softmax.
2. Accuracy: trains on MSRA train minus its last 5% (the dev split, used to pick the best
   epoch by entity F1), within a wall-clock budget, then scores the official test set.

Writes JSON (default ``benchmarks/results/msra_bilstm_crf.json``) and prints a summary.

    python benchmarks/train_msra.py --data-dir ../shared/data/msra --budget-minutes 57

The defaults are the configuration recorded in docs/benchmarks.md (characters + bigrams);
``--bigram-dim 0 --token-dropout 0`` gives the plain character model. ``--smoke`` runs both
measurements on 256 sentences with a 16-wide network for one epoch (a test, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, TrainingTimeBudget, __version__, read_conll
from bilstm_crf_ner.corpus import msra_files

import _smoke as smoke


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: $MSRA_DIR, else the download cache)")
    parser.add_argument("--budget-minutes", type=float, default=57.0, help="training wall-clock budget")
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--max-sentences", type=int, default=None, help="use only the first N training sentences")
    parser.add_argument("--test-sentences", type=int, default=None, help="score only the first N test sentences")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--lstm-units", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--lr-decay", type=float, default=0.8, help="learning rate factor per --lr-decay-epochs")
    parser.add_argument("--lr-decay-epochs", type=float, default=5.0)
    parser.add_argument("--bigram-dim", type=int, default=64, help="bigram feature size (0: characters only)")
    parser.add_argument("--bigram-min-count", type=int, default=3)
    parser.add_argument("--token-dropout", type=float, default=0.1, help="share of ids replaced by <unk> in training")
    parser.add_argument("--head-batches", type=int, default=150, help="batches per head in the head-cost run")
    parser.add_argument("--head-rounds", type=int, default=2, help="timed rounds per head in the head-cost run")
    parser.add_argument("--skip-head-cost", action="store_true")
    parser.add_argument("--head-cost-only", action="store_true", help="measure the head cost, train nothing else")
    parser.add_argument("--patience", type=int, default=0, help="stop after this many epochs without a better dev F1 (0: never)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="benchmarks/results/msra_bilstm_crf.json")
    parser.add_argument("--save-model", default=None, help="also save the trained model to this folder")
    parser.add_argument("--lexicon", default=None,
                        help="word list for lexicon features; 'jieba' = jieba's dict.txt (pip install jieba)")
    parser.add_argument("--lexicon-dim", type=int, default=16)
    # Smoke: 256 sentences, so that the 5% dev split has entities to score.
    args = smoke.parse_args(parser, argv, max_sentences=smoke.SUBSET, test_sentences=smoke.SENTENCES, batch_size=32,
                            embedding_dim=16, lstm_units=16, bigram_dim=8, head_batches=2, head_rounds=1,
                            max_epochs=1, budget_minutes=1.0)
    if args.lexicon == "jieba":
        from bilstm_crf_ner.core.features import jieba_dictionary

        args.lexicon = jieba_dictionary()
    return args


def make_model(args, head, steps_per_epoch=1):
    schedule = keras.optimizers.schedules.ExponentialDecay(
        args.learning_rate, decay_steps=max(1, int(args.lr_decay_epochs * steps_per_epoch)), decay_rate=args.lr_decay)
    return BLSTMCRFModel(BareEmbedding(args.embedding_dim, bigram_dim=args.bigram_dim,
                                       bigram_min_count=args.bigram_min_count, token_dropout=args.token_dropout,
                                       lexicon=args.lexicon, lexicon_dim=args.lexicon_dim), lstm_units=args.lstm_units,
                         dropout=args.dropout, optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0), head=head,
                         seed=args.seed)


def head_cost(args, x, y, rounds=2):
    """Seconds to train ``head_batches`` batches with each head (same data, after warm-up).

    Both models are built and warmed up first, then timed alternately (crf, softmax, crf, ...)
    so that drifts in machine load hit both; the best round of each head is reported.
    """
    n = args.batch_size * args.head_batches
    subset_x, subset_y = x[:n], y[:n]
    tokens = sum(map(len, subset_x))
    models = {}
    for head in ("crf", "softmax"):
        models[head] = make_model(args, head)
        models[head].fit(subset_x[: args.batch_size * 10], subset_y[: args.batch_size * 10], epochs=1,
                         batch_size=args.batch_size, verbose=0)  # builds, traces and warms up
    seconds = {"crf": [], "softmax": []}
    for _ in range(rounds):
        for head, model in models.items():
            start = time.perf_counter()
            model.fit(subset_x, subset_y, epochs=1, batch_size=args.batch_size, verbose=0)
            seconds[head].append(time.perf_counter() - start)
    result = {head: {"seconds": min(s), "rounds": s, "tokens_per_second": tokens / min(s)} for head, s in seconds.items()}
    result["crf_over_softmax"] = result["crf"]["seconds"] / result["softmax"]["seconds"]
    result["batches"] = args.head_batches
    return result


def main(argv=None):
    args = parse_args(argv)
    files = msra_files(args.data_dir, download=True)
    x, y = read_conll(files["train"])
    test_x, test_y = read_conll(files["test"])
    test_x, test_y = test_x[: args.test_sentences], test_y[: args.test_sentences]
    if args.max_sentences:
        x, y = x[: args.max_sentences], y[: args.max_sentences]
    dev_size = max(1, len(x) // 20)
    train_x, train_y, dev_x, dev_y = x[:-dev_size], y[:-dev_size], x[-dev_size:], y[-dev_size:]

    results = {
        "library_version": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(), "python": sys.version.split()[0]},
        "config": vars(args), "train_sentences": len(train_x), "dev_sentences": len(dev_x), "test_sentences": len(test_x),
    }
    if not args.skip_head_cost:
        results["head_cost"] = head_cost(args, train_x, train_y, rounds=args.head_rounds)
        print(json.dumps(results["head_cost"], indent=1), flush=True)
    if args.head_cost_only:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(results, indent=1, ensure_ascii=False))
        print(f"wrote {args.output}")
        return

    model = make_model(args, "crf", steps_per_epoch=-(-len(train_x) // args.batch_size))
    budget = TrainingTimeBudget(args.budget_minutes * 60)
    with tempfile.TemporaryDirectory() as tmp:
        best = Path(tmp) / "best.weights.h5"
        checkpoint = keras.callbacks.ModelCheckpoint(best, monitor="val_f1", mode="max", save_best_only=True, save_weights_only=True)
        start = time.perf_counter()
        callbacks = [budget, checkpoint]
        if args.patience:
            callbacks.append(keras.callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=args.patience))
        history = model.fit(train_x, train_y, dev_x, dev_y, epochs=args.max_epochs, batch_size=args.batch_size,
                            callbacks=callbacks, verbose=2)
        wall = time.perf_counter() - start
        model.network.load_weights(best)
    train_tokens = sum(map(len, train_x))
    epochs = len(history.history["loss"])
    report = model.evaluate(test_x, test_y)
    val_f1 = history.history["val_f1"]
    results.update(
        epochs=epochs, best_epoch=int(np.argmax(val_f1)) + 1, dev_f1_per_epoch=[round(v, 4) for v in val_f1],
        training_seconds=budget.elapsed, wall_seconds_including_validation=wall,
        train_tokens_per_second=train_tokens * epochs / budget.elapsed,
        test=report.to_dict(),
        peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    )
    print(report)
    print(f"test F1 {report.f1 * 100:.2f} after {epochs} epochs (best dev epoch {results['best_epoch']}), "
          f"{results['train_tokens_per_second']:.0f} tokens/s, peak RSS {results['peak_rss_gib']:.2f} GiB")
    if args.save_model:
        model.save(args.save_model)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
