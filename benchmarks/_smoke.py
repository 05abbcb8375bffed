"""Shared by the benchmarks' ``--smoke`` modes (a helper module, not a benchmark).

``--smoke`` runs a benchmark's own code path on a few sentences and a tiny model, in seconds,
so that tests/test_benchmarks.py notices when a script stops working. The tiny models are
trained or written here on first use; ``$BENCHMARK_SMOKE_CACHE`` (a folder) lets several smoke
runs share them, otherwise each run makes its own in a temporary folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

SENTENCES = 64  # MSRA sentences a smoke run trains or predicts on
SUBSET = 256  # sentences of each MSRA file a smoke run reads (reading all of train.bio takes ~10 s)
_CACHE = None


def smoke_requested(argv=None) -> bool:
    return "--smoke" in (sys.argv[1:] if argv is None else argv)


def parse_args(parser, argv=None, **defaults):
    """``parser.parse_args(argv)`` with a ``--smoke`` flag added; when it is given, ``defaults``
    replace the parser's defaults (options given on the command line still win) and ``--output``
    must be given, so that a smoke run never overwrites ``benchmarks/results/``. A smoke run's
    ``--data-dir`` becomes :func:`msra_subset` of it."""
    parser.add_argument("--smoke", action="store_true",
                        help="run this benchmark's code on a few sentences and a tiny model, in seconds (a test)")
    if smoke_requested(argv):
        parser.set_defaults(**defaults, output=None)
    args = parser.parse_args(argv)
    if args.smoke and args.output is None:
        parser.error("--smoke needs --output")
    if args.smoke and hasattr(args, "data_dir"):
        args.data_dir = str(msra_subset(args.data_dir))
    return args


def cache_dir() -> Path:
    global _CACHE
    if _CACHE is None:
        shared = os.environ.get("BENCHMARK_SMOKE_CACHE")
        if shared:
            _CACHE = Path(shared)
        else:  # this run's own, removed when it ends
            _CACHE = Path(tempfile.mkdtemp(prefix="benchmark-smoke-"))
            atexit.register(shutil.rmtree, _CACHE, True)
        _CACHE.mkdir(parents=True, exist_ok=True)
    return _CACHE


def _publish(tmp: Path, final: Path) -> Path:
    """Move the finished folder ``tmp/final.name`` into place (another smoke run may have done it
    first) and remove ``tmp``."""
    try:
        (tmp / final.name).rename(final)
    except OSError:
        pass
    shutil.rmtree(tmp, ignore_errors=True)
    return final


def msra_subset(data_dir=None) -> Path:
    """A folder with the first ``SUBSET`` sentences of MSRA's ``train.bio`` and ``test.bio``."""
    from bilstm_crf_ner.corpus import msra_files

    final = cache_dir() / "msra-subset"
    if not (final / "test.bio").is_file():
        tmp = Path(tempfile.mkdtemp(dir=cache_dir()))
        (tmp / final.name).mkdir()
        for split, source in msra_files(data_dir).items():
            if split not in ("train", "test"):
                continue
            lines, sentences = [], 0
            with open(source, encoding="utf-8") as f:
                for line in f:
                    lines.append(line)
                    if not line.strip() and lines[:-1] and lines[-2].strip():
                        sentences += 1
                        if sentences == SUBSET:
                            break
            (tmp / final.name / f"{split}.bio").write_text("".join(lines), encoding="utf-8")
        _publish(tmp, final)
    return final


def tiny_model(data_dir=None) -> Path:
    """A saved character BiLSTM-CRF (embedding 16, BiLSTM 16) trained for one epoch on 64 MSRA sentences."""
    final = cache_dir() / "tiny-model"
    if not (final / "config.json").is_file():
        from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel, read_conll
        from bilstm_crf_ner.corpus import msra_files

        x, y = read_conll(msra_files(data_dir)["train"])
        model = BLSTMCRFModel(BareEmbedding(embedding_dim=16), lstm_units=16, seed=1)
        model.fit(x[:SENTENCES], y[:SENTENCES], epochs=1, batch_size=32, verbose=0)
        tmp = Path(tempfile.mkdtemp(dir=cache_dir()))
        model.save(tmp / final.name)
        _publish(tmp, final)
    return final


def tiny_export(data_dir=None) -> Path:
    """:func:`tiny_model` exported (ONNX + OpenVINO IR, f32, engines timed as ``export`` does)."""
    final = cache_dir() / "tiny-model-ir"
    if not (final / "metadata.json").is_file():
        from bilstm_crf_ner import BLSTMCRFModel

        tmp = Path(tempfile.mkdtemp(dir=cache_dir()))
        BLSTMCRFModel.load(tiny_model(data_dir)).export(tmp / final.name)
        _publish(tmp, final)
    return final


def tiny_bert() -> Path:
    """A random 1-layer, 16-wide BERT with bert-base-chinese's vocabulary (Hugging Face format)."""
    final = cache_dir() / "tiny-bert"
    if not (final / "config.json").is_file():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import random_bert

        tmp = Path(tempfile.mkdtemp(dir=cache_dir()))
        random_bert.main(["--smoke", "--output", str(tmp / final.name)])
        _publish(tmp, final)
    return final


def tiny_bert_export(data_dir=None) -> Path:
    """A BiLSTM(8)-CRF on :func:`tiny_bert`, trained one epoch on 64 MSRA sentences, exported
    without timing (f32 IR with the transformer fusions)."""
    final = cache_dir() / "tiny-bert-ir"
    if not (final / "metadata.json").is_file():
        from bilstm_crf_ner import BERTEmbedding, BLSTMCRFModel, read_conll
        from bilstm_crf_ner.corpus import msra_files

        x, y = read_conll(msra_files(data_dir)["train"])
        model = BLSTMCRFModel(BERTEmbedding(str(tiny_bert()), sequence_length=32), lstm_units=8, seed=1)
        model.fit(x[:SENTENCES], y[:SENTENCES], epochs=1, batch_size=32, verbose=0)
        tmp = Path(tempfile.mkdtemp(dir=cache_dir()))
        model.export(tmp / final.name, measure=False)
        _publish(tmp, final)
    return final
