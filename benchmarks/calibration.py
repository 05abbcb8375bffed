"""Benchmark: are entity confidences calibrated, and what do scores cost?

On a saved model and the MSRA test set:

1. Reliability table: predicted entities binned by ``Entity.confidence``; per bin the mean
   confidence and the precision (share of entities that exactly match a gold entity). A
   calibrated model has precision close to confidence in every bin. Also the expected
   calibration error (ECE, support-weighted mean gap).
2. Cost: decoding time of plain Viterbi vs Viterbi + forward-backward marginals + entity
   probabilities, on the same emissions (numpy), and end-to-end ``predict`` vs
   ``predict(return_scores=True)``.

    python benchmarks/calibration.py --model models/msra --data-dir ../shared/data/msra

Writes ``benchmarks/results/calibration.json``, ``docs/calibration.md`` (table) and a PNG chart.
``--smoke`` runs it on a tiny model (trained on 64 sentences) and 64 test sentences, and writes
the table next to ``--output`` instead of ``docs/calibration.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bilstm_crf_ner import BLSTMCRFModel, read_conll
from bilstm_crf_ner.core.batching import pad_batch
from bilstm_crf_ner.corpus import msra_files
from bilstm_crf_ner.core.inference import decode_emissions
from bilstm_crf_ner.core.tags import detect_scheme, spans_from_tags

import _smoke as smoke


def reliability(entities, gold_spans, bins):
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    flat = [(e.confidence, (e.type, e.start, e.end) in gold) for sentence, gold in zip(entities, gold_spans) for e in sentence]
    confidences = np.array([c for c, _ in flat])
    correct = np.array([ok for _, ok in flat], dtype=float)
    index = np.clip(np.digitize(confidences, edges[1:-1]), 0, bins - 1)
    for b in range(bins):
        chosen = index == b
        if chosen.any():
            rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "count": int(chosen.sum()),
                         "mean_confidence": float(confidences[chosen].mean()), "precision": float(correct[chosen].mean())})
    ece = sum(r["count"] * abs(r["mean_confidence"] - r["precision"]) for r in rows) / max(len(flat), 1)
    return rows, float(ece), float(correct.mean()) if len(flat) else 0.0


def timed(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a saved model folder (required unless --smoke)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument("--test-sentences", type=int, default=None, help="only the first N test sentences")
    parser.add_argument("--predict-sentences", type=int, default=1000, help="sentences of the end-to-end timing")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of the decoding comparison")
    parser.add_argument("--output", default="benchmarks/results/calibration.json")
    parser.add_argument("--doc", default="docs/calibration.md")
    args = smoke.parse_args(parser, argv, test_sentences=smoke.SENTENCES, predict_sentences=smoke.SENTENCES, repeats=2,
                            doc=None)
    if args.model is None:
        if not args.smoke:
            parser.error("--model is required")
        args.model = str(smoke.tiny_model(args.data_dir))
    if args.doc is None:  # smoke run: the table goes next to the JSON, docs/ stays as it is
        args.doc = str(Path(args.output).with_suffix(".md"))

    model = BLSTMCRFModel.load(args.model)
    test_x, test_y = read_conll(msra_files(args.data_dir)["test"])
    test_x, test_y = test_x[: args.test_sentences], test_y[: args.test_sentences]
    scheme = detect_scheme(test_y)
    gold = [set(spans_from_tags(tags, scheme)) for tags in test_y]
    entities = model.predict_entities(test_x, batch_size=64)
    rows, ece, precision = reliability(entities, gold, args.bins)

    # Cost on identical emissions: a 64-sentence batch of real test sentences.
    batch = test_x[:64]
    encoder, scorer = model.predictor.encoder, model.predictor.scorer
    ids = encoder.encode_many(batch)
    padded = pad_batch(ids)
    lengths = np.array([len(s) for s in ids])
    emissions = scorer.emissions(padded)
    params = scorer.crf_scores()
    plain = timed(lambda: decode_emissions(emissions, lengths, params, model.tags, model.tag_scheme), args.repeats)
    scored = timed(lambda: decode_emissions(emissions, lengths, params, model.tags, model.tag_scheme, scores=True),
                   args.repeats)
    sample = test_x[: args.predict_sentences]
    predict_plain = timed(lambda: model.predict(sample), 3)
    predict_scores = timed(lambda: model.predict(sample, return_scores=True), 3)
    result = {
        "model": args.model, "entities": sum(map(len, entities)), "precision": precision, "ece": ece, "bins": rows,
        "decode_64_sentences_s": {"viterbi": plain, "viterbi_plus_marginals_and_entity_probabilities": scored,
                                  "ratio": scored / plain},
        "predict_sentences": len(sample),
        "predict_1000_sentences_s": {"plain": predict_plain, "return_scores": predict_scores,
                                     "ratio": predict_scores / predict_plain},
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="#999", label="perfect calibration")
    ax.plot([r["mean_confidence"] for r in rows], [r["precision"] for r in rows], "o-", label="this model")
    for r in rows:
        ax.annotate(str(r["count"]), (r["mean_confidence"], r["precision"]), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("entity confidence (bin mean)")
    ax.set_ylabel("entity precision")
    ax.set_title(f"MSRA test, ECE {ece:.3f}")
    ax.legend()
    fig.tight_layout()
    chart = output.with_suffix(".png")
    fig.savefig(chart, dpi=100)

    lines = ["# Entity confidence calibration (MSRA test)", "",
             f"Model `{args.model}`; produced by `python benchmarks/calibration.py --model {args.model}`.", "",
             "Entity confidence = probability of exactly that entity (type and both boundaries) under the CRF.", "",
             "| confidence bin | entities | mean confidence | precision |", "|---|---|---|---|"]
    lines += [f"| {r['bin']} | {r['count']} | {r['mean_confidence']:.3f} | {r['precision']:.3f} |" for r in rows]
    lines += ["", f"Expected calibration error: {ece:.4f}; overall entity precision {precision:.4f}.", "",
              f"![reliability](../{chart.as_posix()})", "", "## Cost of scores", "",
              "| what | plain | with scores | ratio |", "|---|---|---|---|",
              f"| decode 64 sentences (numpy, same emissions) | {plain * 1e3:.1f} ms | {scored * 1e3:.1f} ms | {scored / plain:.2f}x |",
              f"| `predict` {len(sample)} sentences (end to end) | {predict_plain:.2f} s | {predict_scores:.2f} s | {predict_scores / predict_plain:.2f}x |", ""]
    Path(args.doc).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
