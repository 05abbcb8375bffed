"""Train a tagger on CoNLL or span files (or the MSRA folder), print the test report, save the model.

examples:
  bilstm-crf-ner train --msra ../shared/data/msra --epochs 10 --output models/msra
  bilstm-crf-ner train --train train.conll --dev dev.conll --test test.conll \\
      --bert hf://bert-base-cased --sequence-length 128 --lstm-units 128 --output models/en
  bilstm-crf-ner train --train train.bio --epochs 5 --output models/x --plot curves.png
  bilstm-crf-ner train --train tasks.json --format label-studio --dev-fraction 0.1 --output models/shop

The default network is the MSRA recipe of docs/benchmarks.md (128-d tokens + 64-d character
bigrams, 10% token dropout, BiLSTM 256 per direction, dropout 0.5, Adam 2e-3 decayed x0.8
every 5 epochs, gradient clipping 5). With a development set (--dev, or --dev-fraction of the
training file, default 5%) entity F1 is measured after every epoch and the best epoch's
weights are kept. Without --test the report is on the development set.

Span files (doccano, Label Studio, CLUENER, BRAT, jsonl; --format, detected by default) are
tagged per character or per word (--token-unit; auto: words when most texts contain spaces),
with the rules of docs/data.md (--overlaps, --boundary).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging

from ..corpus.conll import msra_files, read_conll
from ..core.tags import MODEL_SCHEMES
from .common import (
    UsageError, add_span_input_options, drop_untokenized, guess_token_unit, input_format, read_span_file,
)

NAME = "train"
HELP = "train a model on CoNLL or span files and save it"
logger = logging.getLogger(__name__)


def _positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--train", help="training file (CoNLL columns: token ... tag, blank line between sentences; "
                                      "or a span file, see --format)")
    data.add_argument("--dev", help="development file (default: the last --dev-fraction of --train)")
    data.add_argument("--test", help="test file scored at the end")
    data.add_argument("--msra", metavar="DIR", nargs="?", const="",
                      help="MSRA folder with train.bio and test.bio (instead of --train/--test); without DIR: "
                           "$MSRA_DIR, else the cached or downloaded corpus (bilstm-crf-ner download msra)")
    data.add_argument("--dev-fraction", type=float, default=0.05, help="held out of --train when no --dev (0: none)")
    data.add_argument("--token-column", type=int, default=0)
    data.add_argument("--tag-column", type=int, default=-1)
    data.add_argument("--max-sentences", type=_positive(int), help="use the first N training sentences only")
    data.add_argument("--token-unit", choices=("auto", "char", "word"), default="auto",
                      help="span files: tag per character or per whitespace-separated word (auto: word when at least "
                           "half of the training texts contain whitespace)")
    add_span_input_options(parser)
    net = parser.add_argument_group("model")
    encoders = net.add_mutually_exclusive_group()
    encoders.add_argument("--bert", metavar="PATH_OR_HANDLE",
                          help="BERT checkpoint (Hugging Face or Google folder, hf://org/name); default: a trainable "
                               "embedding")
    encoders.add_argument("--transformer", metavar="PATH_OR_HANDLE",
                          help="Hugging Face checkpoint of any supported family (RoBERTa, XLM-RoBERTa, ALBERT, "
                               "DistilBERT, ELECTRA, DeBERTa-v3, BERT), tokenized with its tokenizer.json")
    net.add_argument("--sequence-length", type=_positive(int), default=128, help="encoder window in pieces")
    net.add_argument("--trainable", default="all",
                     help="encoder layers to fine-tune: none, all or a count (default all)")
    net.add_argument("--encoder-learning-rate", type=float, default=3e-5)
    net.add_argument("--embedding-dim", type=_positive(int), default=128)
    net.add_argument("--bigram-dim", type=int, default=64, help="character-bigram features (0: none)")
    net.add_argument("--lexicon", metavar="FILE", help="dictionary for lexicon features (one word per line, optionally "
                     "'word freq type'); 'jieba' = jieba's dict.txt (pip install jieba)")
    net.add_argument("--lexicon-dim", type=_positive(int), default=16)
    net.add_argument("--lstm-units", type=_positive(int), default=256)
    net.add_argument("--lstm-layers", type=int, default=1, help="0: CRF straight on the embedding")
    net.add_argument("--dropout", type=float, default=0.5)
    net.add_argument("--tag-scheme", default="BIOES", choices=MODEL_SCHEMES, help="the model's internal scheme")
    fit = parser.add_argument_group("training")
    fit.add_argument("--epochs", type=_positive(int), default=10)
    fit.add_argument("--batch-size", type=_positive(int), default=64)
    fit.add_argument("--learning-rate", type=float, default=None, help="default 2e-3 (1e-3 with --bert)")
    fit.add_argument("--patience", type=_positive(int), help="stop after N epochs without a better dev F1")
    fit.add_argument("--budget-minutes", type=float, help="stop before this many minutes of training")
    fit.add_argument("--seed", type=int, default=None)
    out = parser.add_argument_group("output")
    out.add_argument("--output", required=True, help="folder to save the model in")
    out.add_argument("--plot", metavar="PNG", help="draw the training curves (loss, dev F1) to this PNG")
    out.add_argument("--report", metavar="JSON", help="also write the final report as JSON")


def _read(path, args, name):
    fmt = input_format(path, args.format)
    if fmt == "conll":
        x, y = read_conll(path, token_column=args.token_column, tag_column=args.tag_column)
    else:
        from ..corpus.spans import spans_to_tags

        texts, entities = read_span_file(path, fmt, args)
        if args.token_unit == "auto":  # decided once, on the training file, for dev and test too
            args.token_unit = guess_token_unit(texts)
            logger.info("span data: one token per %s (--token-unit)", args.token_unit)
        tagged = spans_to_tags(texts, entities, token_unit=args.token_unit, boundary=args.boundary)
        x, y = drop_untokenized(*tagged, path)
    if not x:
        raise UsageError(f"{name} file {path} has no sentences")
    return x, y


def _data(args):
    if args.msra is not None and (args.train or args.test):
        raise UsageError("give either --msra or --train/--test, not both")
    if args.msra is not None:
        files = msra_files(args.msra or None, download=True)
        train_path, test_path = files["train"], files["test"]
    elif args.train:
        train_path, test_path = args.train, args.test
    else:
        raise UsageError("no training data: give --train FILE or --msra DIR")
    x, y = _read(train_path, args, "training")
    if args.max_sentences:
        x, y = x[: args.max_sentences], y[: args.max_sentences]
    if args.dev:
        dev = _read(args.dev, args, "development")
    elif args.dev_fraction > 0:
        count = max(1, int(len(x) * args.dev_fraction))
        if count >= len(x):
            raise UsageError(f"--dev-fraction {args.dev_fraction} leaves no training sentences")
        dev, x, y = (x[-count:], y[-count:]), x[:-count], y[:-count]
    else:
        dev = None
    test = _read(test_path, args, "test") if test_path else None
    return (x, y), dev, test


def _model(args, train_size):
    import keras

    from ..keras.embeddings import BareEmbedding, BERTEmbedding, TransformerEmbedding
    from ..keras.model import BLSTMCRFModel

    if args.bert or args.transformer:
        trainable = {"none": False, "all": True}.get(args.trainable.lower())
        if trainable is None:
            try:
                trainable = int(args.trainable)
            except ValueError:
                raise UsageError(f"--trainable must be none, all or a number of layers, not {args.trainable!r}") from None
        embedding_class = BERTEmbedding if args.bert else TransformerEmbedding
        embedding = embedding_class(args.bert or args.transformer, sequence_length=args.sequence_length,
                                    trainable=trainable, encoder_learning_rate=args.encoder_learning_rate)
        optimizer = keras.optimizers.Adam(args.learning_rate or 1e-3, clipnorm=5.0)
    else:
        from ..core.features import jieba_dictionary

        lexicon = jieba_dictionary() if args.lexicon == "jieba" else args.lexicon
        embedding = BareEmbedding(embedding_dim=args.embedding_dim, bigram_dim=args.bigram_dim, bigram_min_count=3,
                                  token_dropout=0.1, lexicon=lexicon, lexicon_dim=args.lexicon_dim)
        steps_per_epoch = -(-train_size // args.batch_size)
        schedule = keras.optimizers.schedules.ExponentialDecay(args.learning_rate or 2e-3,
                                                               decay_steps=5 * steps_per_epoch, decay_rate=0.8)
        optimizer = keras.optimizers.Adam(schedule, clipnorm=5.0)
    if args.lstm_layers < 0:
        raise UsageError("--lstm-layers must be 0 or more")
    return BLSTMCRFModel(embedding, tag_scheme=args.tag_scheme, lstm_units=args.lstm_units, lstm_layers=args.lstm_layers,
                         dropout=args.dropout, optimizer=optimizer, seed=args.seed)


def run(args) -> int:
    import keras

    from ..keras.callbacks import TrainingTimeBudget
    from ..keras.plotting import plot_history
    from .common import output_json

    (x, y), dev, test = _data(args)
    if args.plot and importlib.util.find_spec("matplotlib") is None:  # fail before training, not after
        raise UsageError("--plot needs matplotlib: pip install matplotlib")
    model = _model(args, len(x))
    callbacks = []
    if dev is not None:
        # Keep the best epoch's weights (restored when training ends, early-stopped or not).
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=args.patience or args.epochs,
                                                       restore_best_weights=True))
    if args.budget_minutes:
        callbacks.append(TrainingTimeBudget(args.budget_minutes * 60))
    logger.info("training on %d sentences%s", len(x), f", {len(dev[0])} for development" if dev else "")
    history = model.fit(x, y, x_validate=dev[0] if dev else None, y_validate=dev[1] if dev else None,
                        epochs=args.epochs, batch_size=args.batch_size, callbacks=callbacks,
                        verbose=0 if args.quiet else 1)
    model.save(args.output)
    if args.plot:
        plot_history(history, args.plot, title=f"bilstm-crf-ner train -> {args.output}")
    scored = test or dev
    if scored is not None:
        report = model.evaluate(*scored, batch_size=args.batch_size, progress=not args.quiet)
        print(f"{'test' if test else 'development'} set ({len(scored[0])} sentences):")
        print(report)
        print(f"entity F1: {report.f1 * 100:.2f}")
        if args.report:
            output_json(args.report, {"split": "test" if test else "dev", **report.to_dict(),
                                     "history": {k: [float(v) for v in vs] for k, vs in history.history.items()}})
    print(f"model saved to {args.output}")
    return 0
