"""Where prediction time goes: the parts of one 16 x 128 predict call, lexicon matching, numpy
Viterbi, tf.data vs plain batches, and OpenVINO per-op costs (f32 vs bf16) and static vs dynamic
shapes, for one saved model and its export.

    python benchmarks/runtime_parts.py --model models/msra-lexicon --export ir-lexicon \\
        --output benchmarks/results/runtime_parts_msra_lexicon.json
    python benchmarks/runtime_parts.py --model /tmp/bert-msra-model --export /tmp/bert-msra-ir --skip-tf-data \\
        --output benchmarks/results/runtime_parts_bert_4x256.json

The numbers behind the explanations in docs/benchmarks.md and docs/deployment.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path



def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a saved BLSTMCRFModel folder")
    parser.add_argument("--export", required=True, help="its export folder")
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: $MSRA_DIR)")
    parser.add_argument("--skip-tf-data", action="store_true", help="skip the (slow for BERT) tf.data comparison")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    import openvino as ov
    import tensorflow as tf

    from bilstm_crf_ner import BLSTMCRFModel
    from bilstm_crf_ner.core.batching import pad_batch
    from bilstm_crf_ner.corpus import msra_files, read_conll
    from bilstm_crf_ner.core.decoding import viterbi_decode
    from bilstm_crf_ner.core.features import Lexicon, jieba_dictionary, read_lexicon
    from bilstm_crf_ner.core.inference import Decoded, decode_emissions, normalize_inputs, tag_writer
    from bilstm_crf_ner.runtime import Tagger
    from bilstm_crf_ner.runtime.benchmark import benchmark_batch, interleaved_ms, median_ms

    test_x, _ = read_conll(msra_files(args.data_dir)["test"])
    result = {"model": args.model, "export": args.export}

    # Lexicon matching (jieba's dictionary), per character: one sentence at a time, and in the
    # 16-sentence batches prediction uses.
    start = time.perf_counter()
    lexicon = Lexicon(read_lexicon(jieba_dictionary()))
    result["lexicon_build_s"] = time.perf_counter() - start
    sample = test_x[:2000]
    chars = sum(map(len, sample))
    start = time.perf_counter()
    for tokens in sample:
        lexicon.encode(tokens)
    result["lexicon_us_per_char"] = (time.perf_counter() - start) / chars * 1e6
    start = time.perf_counter()
    for begin in range(0, len(sample), 16):
        lexicon.encode_many(sample[begin:begin + 16])
    result["lexicon_batched_us_per_char"] = (time.perf_counter() - start) / chars * 1e6

    tagger = Tagger.load(args.export, backend="openvino", precision="f32", static_shapes=False)
    batch = benchmark_batch(["".join(s) for s in test_x], 16, 128)
    ids = pad_batch([tagger.encode_tokens(tagger.tokenize(t)[0]) for t in batch])
    emissions = tagger.emissions(ids)
    lengths = [len(tagger.tokenize(t)[0]) for t in batch]
    result["batch_shape"] = list(ids.shape)
    result["viterbi_numpy_ms"] = median_ms(lambda: viterbi_decode(emissions, lengths, *tagger._scores), 20)
    result["decode_emissions_ms"] = median_ms(
        lambda: decode_emissions(emissions, lengths, tagger._scores, tagger.tags, tagger.tag_scheme), 20)
    result["encode_16x128_ms"] = median_ms(lambda: tagger.encode_many([tagger.tokenize(t)[0] for t in batch]), 20)

    # One predict call on the 16 x 128 batch, part by part (timed in turn, 30 rounds).
    items = normalize_inputs(batch, tagger.tokenize)
    tokens = [item[0] for item in items]
    paths = [d.path for d in decode_emissions(emissions, lengths, tagger._scores, tagger.tags, tagger.tag_scheme)]
    write = tag_writer(tagger.tags, tagger.tag_scheme, tagger.data_scheme)
    parts = {
        "tokenize": lambda: normalize_inputs(batch, tagger.tokenize),
        "encode": lambda: pad_batch(tagger.encode_many(tokens)),
        "model": lambda: tagger.emissions(ids),
        "viterbi": lambda: viterbi_decode(emissions, lengths, *tagger._scores),
        "tags": lambda: [write(p) for p in paths],
        "predict": lambda: tagger.predict(batch, batch_size=16),
    }
    result["predict_parts_ms"] = dict(zip(parts, interleaved_ms(list(parts.values()), 30)))

    # OpenVINO: per-op time by type and implementation, f32 vs bf16; static vs dynamic shapes, interleaved.
    core = ov.Core()
    profiles = {}
    for precision in ("f32", "bf16"):
        compiled = core.compile_model(core.read_model(str(Path(args.export) / "model.xml")), "CPU",
                                      {"INFERENCE_PRECISION_HINT": precision, "PERF_COUNT": True})
        request = compiled.create_infer_request()
        for _ in range(5):
            request.infer({0: ids})
        totals = collections.Counter()
        for info in request.profiling_info:
            totals[f"{info.node_type} ({info.exec_type})"] += info.real_time.total_seconds() * 1e3
        profiles[precision] = dict(totals.most_common(6))
    result["openvino_profile_ms_top_ops"] = profiles
    from bilstm_crf_ner.runtime.backends import OpenVINOBackend

    variants = {}
    xmls = {"f32": "model.xml"}
    if (Path(args.export) / "model_int8.xml").is_file():
        xmls["int8"] = "model_int8.xml"
    for precision, xml in xmls.items():
        for static in (False, True):
            variants[f"{precision}{'_static' if static else ''}"] = OpenVINOBackend(
                Path(args.export) / xml, precision, static_shapes=static)
    times = interleaved_ms([lambda backend=backend: backend(ids) for backend in variants.values()], 15)
    result["openvino_interleaved_median_ms"] = dict(zip(variants, times))

    # Keras predict on the whole test set: plain length-sorted batches vs the same batches via tf.data.
    if not args.skip_tf_data:
        model = BLSTMCRFModel.load(args.model)
        decode_fn = model._graph_functions()[1]

        def via_tf_data(self, batches, lengths, scores, nbest, progress):
            dataset = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=model.input_spec())
            return [[Decoded(row[:n]) for row, n in zip(decode_fn(ids).numpy(), length)]
                    for ids, length in zip(dataset.prefetch(2), lengths)]

        model.predict(test_x[:200])
        rounds = {"plain_s": [], "tf_data_s": []}
        for _ in range(2):
            for name, method in (("tf_data_s", via_tf_data), ("plain_s", None)):
                if method is None:
                    model.__dict__.pop("_decode_batches", None)
                else:
                    model._decode_batches = method.__get__(model)
                start = time.perf_counter()
                model.predict(test_x, batch_size=64)
                rounds[name].append(time.perf_counter() - start)
        result["keras_predict_msra_test"] = rounds

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
