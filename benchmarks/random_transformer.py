"""Write a randomly initialised encoder checkpoint of any supported family (Hugging Face format)
for speed measurements, with a tokenizer trained on MSRA text.

Speed does not depend on the weights, so a random encoder of the right shape stands in for a
pretrained one where none can be downloaded. The family's tokenizer kind (byte-level BPE,
SentencePiece Unigram, WordPiece) is trained on the MSRA sentences, so every MSRA character is
in its vocabulary. Uses the test helpers' writer (tests/transformer_support.py).

    python benchmarks/random_transformer.py --family deberta-v2 --layers 4 --hidden 256 --output /tmp/deberta-4x256

``--smoke`` writes a 1-layer, 16-wide one from 64 sentences.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from transformer_support import FAMILIES, family_tokenizer, random_weights, tiny_config, write_checkpoint  # noqa: E402

from bilstm_crf_ner import read_conll  # noqa: E402
from bilstm_crf_ner.corpus import msra_files  # noqa: E402

import _smoke as smoke  # noqa: E402

_SIZE_KEYS = {"distilbert": ("dim", "n_layers", "n_heads", "hidden_dim")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", choices=FAMILIES, default="deberta-v2", help="config.json model_type")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--vocab-size", type=int, default=8000, help="pieces the tokenizer learns (at least)")
    parser.add_argument("--sentences", type=int, default=50000, help="MSRA sentences the tokenizer is trained on")
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: MSRA_DIR, the cache or a download)")
    parser.add_argument("--output", required=True)
    args = smoke.parse_args(parser, argv, layers=1, hidden=16, heads=2, vocab_size=2000, sentences=64)
    files = msra_files(args.data_dir)
    texts = ["".join(s) for name in ("train", "test") for s in read_conll(files[name])[0][: args.sentences]]
    tokenizer = family_tokenizer(args.family, texts, vocab_size=args.vocab_size)
    hidden_key, layers_key, heads_key, ffn_key = _SIZE_KEYS.get(
        args.family, ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"))
    sizes = {hidden_key: args.hidden, layers_key: args.layers, heads_key: args.heads, ffn_key: 4 * args.hidden}
    if args.family in ("albert", "electra"):
        sizes["embedding_size"] = args.hidden // 2
    if args.family in ("roberta", "xlm-roberta"):
        sizes["max_position_embeddings"] = 514
    elif args.family == "deberta-v2":
        sizes.update(max_position_embeddings=512, position_buckets=256)
    else:
        sizes["max_position_embeddings"] = 512
    config = tiny_config(args.family, tokenizer.get_vocab_size(), **sizes)
    write_checkpoint(args.output, config, random_weights(config, scale=0.02), tokenizer)
    print(args.output)


if __name__ == "__main__":
    main()
