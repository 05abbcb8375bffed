"""Train a character BiLSTM-CRF on the MSRA Chinese NER corpus and score the official test set.

    pip install jieba
    python examples/train_msra.py --data-dir ../shared/data/msra --lexicon jieba --epochs 25 --output models/msra

On a 2-core CPU an epoch of the full corpus takes about 2 minutes; this recipe (characters,
bigrams and lexicon features from jieba's dictionary) scored 91.1 F1 on the test set
(docs/benchmarks.md), 89.5 without ``--lexicon``. With ``--bert PATH`` the
tagger is BERT-BiLSTM-CRF on that checkpoint (Hugging Face or Google folder, or hub handle;
see docs/bert.md), fine-tuned with ``--encoder-learning-rate``; plan on a GPU for BERT-Base.

The corpus folder holds ``train.bio`` and ``test.bio`` (one character and its BIO tag per
line); it defaults to the ``MSRA_DIR`` environment variable, then to the download cache, where
the corpus is downloaded (pinned public copy, checksums verified) if it is not there yet
(``bilstm-crf-ner download msra``; docs/data.md). The last 5% of the training
sentences are held out for validation (entity F1 each epoch); the best epoch is kept.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import keras

from bilstm_crf_ner import BareEmbedding, BERTEmbedding, BilstmCrfNerError, BLSTMCRFModel, TrainingTimeBudget, read_conll
from bilstm_crf_ner.corpus import msra_files
from bilstm_crf_ner.core.features import jieba_dictionary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder with train.bio and test.bio (default: $MSRA_DIR, else the download cache)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-sentences", type=int, default=None, help="train on the first N sentences only")
    parser.add_argument("--max-test-sentences", type=int, default=None, help="score the first N test sentences only")
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--bigram-dim", type=int, default=64, help="character-bigram features (0: characters only)")
    parser.add_argument("--lstm-units", type=int, default=256)
    parser.add_argument("--lexicon", default=None,
                        help="dictionary for lexicon features: a word list file, or 'jieba' (pip install jieba)")
    parser.add_argument("--bert", default=None, help="BERT checkpoint folder or hub handle (default: no BERT)")
    parser.add_argument("--sequence-length", type=int, default=128, help="BERT window in pieces")
    parser.add_argument("--trainable", default="all", help="BERT layers to fine-tune: 'none', 'all' or a count")
    parser.add_argument("--encoder-learning-rate", type=float, default=3e-5)
    parser.add_argument("--budget-minutes", type=float, default=None, help="stop training before this many minutes")
    parser.add_argument("--output", default="models/msra", help="folder to save the trained model in")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")

    try:
        files = msra_files(args.data_dir, download=True)
    except (FileNotFoundError, BilstmCrfNerError) as exc:
        parser.exit(2, f"error: {exc}\n")
    x, y = read_conll(files["train"])
    test_x, test_y = read_conll(files["test"])
    if args.max_sentences:
        x, y = x[: args.max_sentences], y[: args.max_sentences]
    if args.max_test_sentences:
        test_x, test_y = test_x[: args.max_test_sentences], test_y[: args.max_test_sentences]
    dev = max(1, len(x) // 20)

    if args.bert:
        trainable = {"none": False, "all": True}.get(args.trainable)
        try:
            embedding = BERTEmbedding(args.bert, sequence_length=args.sequence_length,
                                      trainable=int(args.trainable) if trainable is None else trainable,
                                      encoder_learning_rate=args.encoder_learning_rate)
        except (BilstmCrfNerError, ValueError) as exc:
            parser.exit(2, f"error: {exc}\n")
        model = BLSTMCRFModel(embedding, lstm_units=args.lstm_units, learning_rate=1e-3)
    else:
        # The configuration of docs/benchmarks.md: characters + bigrams, strong dropout, decaying learning rate.
        steps_per_epoch = -(-(len(x) - dev) // args.batch_size)
        schedule = keras.optimizers.schedules.ExponentialDecay(2e-3, decay_steps=5 * steps_per_epoch, decay_rate=0.8)
        try:
            lexicon = jieba_dictionary() if args.lexicon == "jieba" else args.lexicon
        except FileNotFoundError as exc:
            parser.exit(2, f"error: {exc}\n")
        embedding = BareEmbedding(embedding_dim=args.embedding_dim, bigram_dim=args.bigram_dim, bigram_min_count=3,
                                  token_dropout=0.1, lexicon=lexicon)
        model = BLSTMCRFModel(embedding, lstm_units=args.lstm_units, dropout=0.5,
                              optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0))
    with tempfile.TemporaryDirectory() as tmp:
        best = Path(tmp) / "best.weights.h5"
        checkpoint = keras.callbacks.ModelCheckpoint(best, monitor="val_f1", mode="max", save_best_only=True,
                                                     save_weights_only=True)
        callbacks = [checkpoint] + ([TrainingTimeBudget(args.budget_minutes * 60)] if args.budget_minutes else [])
        model.fit(x[:-dev], y[:-dev], x_validate=x[-dev:], y_validate=y[-dev:], epochs=args.epochs,
                  batch_size=args.batch_size, callbacks=callbacks, verbose=0 if args.quiet else 2)
        model.network.load_weights(best)
    report = model.evaluate(test_x, test_y)
    print(report)
    print(f"MSRA test entity F1: {report.f1 * 100:.2f}")
    model.save(args.output)
    print(f"model saved to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
