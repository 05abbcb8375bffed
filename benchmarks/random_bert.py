"""Write a randomly initialised BERT checkpoint (Hugging Face format) for speed measurements.

Speed does not depend on the weights, so a random BERT of the right shape stands in for a
pretrained one where none can be downloaded. Uses the test helpers' writer.

    python benchmarks/random_bert.py --layers 4 --hidden 256 --output /tmp/bert-4x256-chinese

``--smoke`` writes a 1-layer, 16-wide one (the checkpoint's ``config.json`` is its JSON).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bert_support import CHINESE_VOCAB, random_weights, tiny_config, write_hf_checkpoint  # noqa: E402

from bilstm_crf_ner.core.wordpiece import read_vocab  # noqa: E402

import _smoke as smoke  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--positions", type=int, default=512)
    parser.add_argument("--vocab", default=str(CHINESE_VOCAB), help="vocab.txt (default: bert-base-chinese's)")
    parser.add_argument("--output", required=True)
    args = smoke.parse_args(parser, argv, layers=1, hidden=16, heads=2, positions=64)
    vocab = read_vocab(args.vocab)
    config = tiny_config(len(vocab), hidden=args.hidden, layers=args.layers, heads=args.heads,
                         intermediate=4 * args.hidden, positions=args.positions)
    write_hf_checkpoint(args.output, vocab, config, random_weights(config, scale=0.02))
    print(args.output)


if __name__ == "__main__":
    main()
