"""``bilstm-crf-ner``: train, evaluate, predict, export and benchmark from the shell.

    bilstm-crf-ner train --msra ../shared/data/msra --epochs 10 --output models/msra --plot curves.png
    bilstm-crf-ner evaluate models/msra ../shared/data/msra/test.bio
    echo "中共中央致中国致公党十一大的贺词" | bilstm-crf-ner predict models/msra
    bilstm-crf-ner export models/msra ir/
    bilstm-crf-ner benchmark ir/ --data ../shared/data/msra/test.bio

Each subcommand has --help with examples. Mistakes (a missing file, a malformed corpus, a
folder that is not a model) print one "error:" line and exit with status 2; --quiet
hides progress bars and logs. Commands that only use an exported folder (predict,
evaluate, benchmark on ir/) do not import TensorFlow.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..core.errors import BilstmCrfNerError
from . import benchmark, download, evaluate, export, predict, serve, tag, train

COMMANDS = (train, evaluate, predict, export, benchmark, serve, tag, download)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bilstm-crf-ner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.NAME, help=command.HELP, description=command.__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(sub)
        sub.add_argument("-q", "--quiet", action="store_true", help="no progress bars or logs")
        sub.set_defaults(run=command.run)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``bilstm-crf-ner`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    # Before TensorFlow is imported (by the commands that need it): keep its C++ start-up noise out.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        return args.run(args) or 0
    except (BilstmCrfNerError, OSError) as exc:
        # User mistakes: a bad file, folder, corpus, argument or a backend this machine lacks.
        message = str(exc) or type(exc).__name__
        print(f"bilstm-crf-ner {args.command}: error: {message}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # a runtime-only install asked to train or export
        from ..core.errors import missing_dependency

        clearer = missing_dependency(exc)
        if clearer is None:
            raise
        print(f"bilstm-crf-ner {args.command}: error: {clearer}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
