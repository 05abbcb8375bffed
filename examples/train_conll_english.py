"""Train an English BERT(-BiLSTM)-CRF on CoNLL column files and score the test file.

    python examples/train_conll_english.py --train conll2003/train.txt --dev conll2003/valid.txt \\
        --test conll2003/test.txt --bert path/to/bert-base-cased --epochs 3 --output models/conll-en
    python examples/train_conll_english.py --train train.txt --test test.txt --bert path/to/bert \\
        --lstm-units 0 --trainable 4                  # BERT-CRF, only the top 4 layers fine-tuned
    python examples/train_conll_english.py --train train.txt --test test.txt   # no BERT: word embeddings

``--bert`` is a Hugging Face folder (``config.json``, ``model.safetensors``, ``vocab.txt``) or a
Google checkpoint folder (``bert_config.json``, ``bert_model.ckpt.*``, ``vocab.txt``), or a hub
handle; see docs/bert.md. Every word keeps one tag: the library splits it into WordPieces and
puts its label on the first piece; sentences longer than ``--sequence-length`` pieces are
windowed, never truncated. Without ``--bert`` the tagger is a word-level BiLSTM-CRF with
embeddings learned from scratch (``BareEmbedding``): it runs anywhere, but knows no names it has
not seen in training, so it scores lower. Plan on a GPU for BERT-Base on the full CoNLL-2003
(docs/bert.md estimates CPU speeds).

The files have one token per line, the token in the first column and its tag in the last
(``--token-column`` / ``--tag-column`` to choose others), a blank line between sentences. The
CoNLL-2003 files (``EU NNP I-NP I-ORG``) can be passed as they are: ``read_conll`` skips their
``-DOCSTART-`` lines, and their IOB1 tags read the same as BIO (an entity may start with ``I-``).
With ``--dev`` the development set is scored every epoch and the epoch with the best entity F1
is kept; without it the last epoch is. The seqeval report of the test file is printed and the
model saved to ``--output`` (load it with ``BLSTMCRFModel.load``, or ``model.export`` it for
examples/deploy_openvino.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import keras

from bilstm_crf_ner import BareEmbedding, BERTEmbedding, BilstmCrfNerError, BLSTMCRFModel, read_conll


def entity_types(tag_sequences):
    return {tag[2:] for tags in tag_sequences for tag in tags if tag != "O"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True, help="training file (CoNLL columns)")
    parser.add_argument("--dev", default=None, help="development file: pick the best epoch by its entity F1")
    parser.add_argument("--test", required=True, help="test file, scored at the end")
    parser.add_argument("--token-column", type=int, default=0)
    parser.add_argument("--tag-column", type=int, default=-1)
    parser.add_argument("--bert", default=None, help="BERT checkpoint folder or hub handle (default: no BERT)")
    parser.add_argument("--sequence-length", type=int, default=128, help="BERT window in WordPieces")
    parser.add_argument("--trainable", default="all", help="BERT layers to fine-tune: 'none', 'all' or a count")
    parser.add_argument("--encoder-learning-rate", type=float, default=3e-5)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="learning rate of the BiLSTM-CRF head")
    parser.add_argument("--lstm-units", type=int, default=128, help="0: no BiLSTM (BERT-CRF)")
    parser.add_argument("--embedding-dim", type=int, default=100, help="word embedding size without --bert")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-sentences", type=int, default=None, help="train on the first N sentences only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="models/conll-english", help="folder to save the trained model in")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    if args.lstm_units < 0 or args.epochs < 1 or args.batch_size < 1:
        parser.error("--lstm-units must be non-negative, --epochs and --batch-size positive")

    try:
        # read_conll skips CoNLL-2003's "-DOCSTART-" lines; other columns (POS, chunk) are ignored.
        read = lambda path: read_conll(path, token_column=args.token_column, tag_column=args.tag_column)  # noqa: E731
        x, y = read(args.train)
        dev_x, dev_y = read(args.dev) if args.dev else (None, None)
        test_x, test_y = read(args.test)
    except (FileNotFoundError, BilstmCrfNerError) as exc:
        parser.exit(2, f"error: {exc}\n")
    if args.max_sentences:
        x, y = x[: args.max_sentences], y[: args.max_sentences]
    if not x or not test_x:
        parser.exit(2, f"error: no sentences in {args.train if not x else args.test}\n")
    unknown = (entity_types(test_y) | entity_types(dev_y or [])) - entity_types(y)
    if unknown:
        parser.exit(2, f"error: entity types {', '.join(sorted(unknown))} occur in --dev/--test but not in training\n")
    print(f"{len(x)} training, {len(dev_x or [])} development, {len(test_x)} test sentences; "
          f"entity types: {', '.join(sorted(entity_types(y)))}")

    lstm = dict(lstm_units=args.lstm_units, lstm_layers=1) if args.lstm_units else dict(lstm_layers=0)
    try:
        if args.bert:
            trainable = {"none": False, "all": True}.get(args.trainable)
            if trainable is None and not args.trainable.isdigit():
                parser.error("--trainable must be 'none', 'all' or a number of layers")
            embedding = BERTEmbedding(args.bert, sequence_length=args.sequence_length, token_unit="word",
                                      trainable=int(args.trainable) if trainable is None else trainable,
                                      encoder_learning_rate=args.encoder_learning_rate)
        else:
            embedding = BareEmbedding(embedding_dim=args.embedding_dim, token_unit="word")
        model = BLSTMCRFModel(embedding, learning_rate=args.learning_rate, seed=args.seed, **lstm)
    except (BilstmCrfNerError, ValueError) as exc:
        parser.exit(2, f"error: {exc}\n")

    verbose = 0 if args.quiet else 2
    if dev_x:
        with tempfile.TemporaryDirectory() as tmp:
            best = Path(tmp) / "best.weights.h5"
            checkpoint = keras.callbacks.ModelCheckpoint(best, monitor="val_f1", mode="max", save_best_only=True,
                                                         save_weights_only=True)
            model.fit(x, y, x_validate=dev_x, y_validate=dev_y, epochs=args.epochs, batch_size=args.batch_size,
                      callbacks=[checkpoint], verbose=verbose)
            model.network.load_weights(best)
    else:
        model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=verbose)

    report = model.evaluate(test_x, test_y)
    print(report)
    print(f"test entity F1: {report.f1 * 100:.2f}")
    try:
        model.save(args.output)
    except BilstmCrfNerError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(f"model saved to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
