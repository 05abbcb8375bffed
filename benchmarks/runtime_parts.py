"""Where prediction time goes: the parts of one 16 x 128 predict call (alone, and right after a
model run as in predict, with cold caches), lexicon matching, numpy Viterbi, tf.data vs plain
batches, and OpenVINO per-op costs (f32 vs bf16) and static vs dynamic shapes, for one saved model
and its export.

    python benchmarks/runtime_parts.py --model models/msra-lexicon --export ir-lexicon \\
        --output benchmarks/results/runtime_parts_msra_lexicon.json
    python benchmarks/runtime_parts.py --model /tmp/bert-msra-model --export /tmp/bert-msra-ir --skip-tf-data \\
        --output benchmarks/results/runtime_parts_bert_4x256.json

The numbers behind the explanations in docs/benchmarks.md and docs/deployment.md. ``--smoke`` runs
it on a tiny model (trained on 64 sentences), its export and 256 test sentences (a test of the
script, not a measurement).
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import _smoke as smoke


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a saved BLSTMCRFModel folder (required unless --smoke)")
    parser.add_argument("--export", default=None, help="its export folder (required unless --smoke)")
    parser.add_argument("--data-dir", default=None, help="MSRA folder (default: $MSRA_DIR)")
    parser.add_argument("--skip-tf-data", action="store_true", help="skip the (slow for BERT) tf.data comparison")
    parser.add_argument("--output", required=True)
    args = smoke.parse_args(parser, argv)
    if args.model is None or args.export is None:
        if not args.smoke:
            parser.error("--model and --export are required")
        args.model, args.export = str(smoke.tiny_model(args.data_dir)), str(smoke.tiny_export(args.data_dir))

    import openvino as ov
    import tensorflow as tf

    from bilstm_crf_ner import BLSTMCRFModel
    from bilstm_crf_ner.core.batching import pad_batch
    from bilstm_crf_ner.corpus import msra_files, read_conll
    from bilstm_crf_ner.core.decoding import viterbi_decode
    from bilstm_crf_ner.core.encoders import load_encoder
    from bilstm_crf_ner.core.features import Lexicon, TokenEncoder, jieba_dictionary, read_lexicon
    from bilstm_crf_ner.core.fileio import read_json
    from bilstm_crf_ner.core.vocab import Vocabulary
    from bilstm_crf_ner.core.inference import decode_emissions, normalize_inputs, tag_writer
    from bilstm_crf_ner.core.predictor import TextEncoder
    from bilstm_crf_ner.runtime import Tagger
    from bilstm_crf_ner.runtime.benchmark import benchmark_batch, interleaved_ms, median_ms

    test_x, _ = read_conll(msra_files(args.data_dir)["test"])
    result = {"model": args.model, "export": args.export}

    # Lexicon matching (jieba's dictionary), per character: one sentence at a time, and in the
    # 16-sentence batches prediction uses.
    start = time.perf_counter()
    lexicon = Lexicon(read_lexicon(jieba_dictionary()))
    result["lexicon_build_s"] = time.perf_counter() - start
    # Loading it as saved models and exports do: memory-mapped arrays vs the old JSON parse + build.
    with tempfile.TemporaryDirectory() as folder:
        description = TokenEncoder(Vocabulary.build([["北"]]), None, lexicon).save(folder)
        start = time.perf_counter()
        mapped = load_encoder(folder, description).lexicon
        result["lexicon_load_from_arrays_s"] = time.perf_counter() - start
        start = time.perf_counter()
        Lexicon(read_json(Path(folder) / description["lexicon"]["file"], "the lexicon"))
        result["lexicon_load_from_json_s"] = time.perf_counter() - start
        start = time.perf_counter()
        for begin in range(0, 2000, 16):  # first touches of the mapped pages included
            mapped.encode_many(test_x[begin:begin + 16])
        result["lexicon_mapped_batched_us_per_char"] = (time.perf_counter() - start) / sum(map(len, test_x[:2000])) * 1e6
    sample = test_x[:2000]
    chars = sum(map(len, sample))
    start = time.perf_counter()
    for tokens in sample:
        lexicon.encode(tokens)
    result["lexicon_us_per_char"] = (time.perf_counter() - start) / chars * 1e6
    from bilstm_crf_ner.core.features import lexicon as lexicon_module

    compiled_walk = lexicon_module.compiled_walk
    for name, walk in (("lexicon_batched_us_per_char", compiled_walk()), ("lexicon_batched_numpy_us_per_char", None)):
        lexicon_module.compiled_walk = lambda walk=walk: walk  # the numba walk ([fast] extra) vs numpy's
        lexicon.encode_many(sample[:16])  # compiled on first use
        start = time.perf_counter()
        for begin in range(0, len(sample), 16):
            lexicon.encode_many(sample[begin:begin + 16])
        result[name] = (time.perf_counter() - start) / chars * 1e6
    lexicon_module.compiled_walk = compiled_walk
    result["lexicon_walk"] = "numba" if compiled_walk() is not None else "numpy"

    tagger = Tagger.load(args.export, backend="openvino", precision="f32", static_shapes=False)
    encoder, scorer = tagger.predictor.encoder, tagger.predictor.scorer
    crf_scores = scorer.crf_scores()
    batch = benchmark_batch(["".join(s) for s in test_x], 16, 128)
    ids = pad_batch([encoder.encode(encoder.tokenize(t)[0]) for t in batch])
    emissions = scorer.emissions(ids)
    lengths = [len(encoder.tokenize(t)[0]) for t in batch]
    result["batch_shape"] = list(ids.shape)
    result["viterbi_numpy_ms"] = median_ms(lambda: viterbi_decode(emissions, lengths, *crf_scores), 20)
    result["decode_emissions_ms"] = median_ms(
        lambda: decode_emissions(emissions, lengths, crf_scores, tagger.tags, tagger.tag_scheme), 20)
    result["encode_16x128_ms"] = median_ms(lambda: encoder.encode_many([encoder.tokenize(t)[0] for t in batch]), 20)

    # One predict call on the 16 x 128 batch, part by part (timed in turn, 30 rounds).
    items = normalize_inputs(batch, encoder.tokenize)
    tokens = [item[0] for item in items]
    paths = [d.path for d in decode_emissions(emissions, lengths, crf_scores, tagger.tags, tagger.tag_scheme)]
    write = tag_writer(tagger.tags, tagger.tag_scheme, tagger.data_scheme)
    parts = {
        "tokenize": lambda: normalize_inputs(batch, encoder.tokenize),
        "encode": lambda: pad_batch(encoder.encode_many(tokens)),
        "model": lambda: scorer.emissions(ids),
        "viterbi": lambda: viterbi_decode(emissions, lengths, *crf_scores),
        "tags": lambda: write(paths),
        "predict": lambda: tagger.predict(batch, batch_size=16),
    }
    if isinstance(encoder, TextEncoder):  # what predict on strings runs instead of tokenize + encode
        parts["encode_texts"] = lambda: pad_batch(encoder.encode_texts(batch))
    result["predict_parts_ms"] = dict(zip(parts, interleaved_ms(list(parts.values()), 30)))
    # The same parts right after a model run, as in predict: the model's weights and activations
    # have evicted the feature tables (tens of MB for a lexicon) and much of the rest from cache.
    after_model = {}
    for name, run in parts.items():
        if name in ("model", "predict"):
            continue
        times = []
        for _ in range(31):
            scorer.emissions(ids)
            start = time.perf_counter()
            run()
            times.append((time.perf_counter() - start) * 1e3)
        after_model[name] = float(np.median(times[1:]))
    result["predict_parts_after_model_ms"] = after_model

    # OpenVINO: per-op time by type and implementation (f32, bf16 and INT8 with bf16 float parts
    # where the export has INT8); static vs dynamic shapes, interleaved.
    core = ov.Core()
    profiles, profile_totals = {}, {}
    settings = [("f32", "model.xml", "f32"), ("bf16", "model.xml", "bf16")]
    if (Path(args.export) / "model_int8.xml").is_file():
        settings.append(("int8_bf16", "model_int8.xml", "bf16"))
    for name, xml, hint in settings:
        compiled = core.compile_model(core.read_model(str(Path(args.export) / xml)), "CPU",
                                      {"INFERENCE_PRECISION_HINT": hint, "PERF_COUNT": True})
        request = compiled.create_infer_request()
        for _ in range(5):
            request.infer({0: ids})
        totals = collections.Counter()
        for info in request.profiling_info:
            totals[f"{info.node_type} ({info.exec_type})"] += info.real_time.total_seconds() * 1e3
        profiles[name] = dict(totals.most_common(10))
        profile_totals[name] = sum(totals.values())
    result["openvino_profile_ms_top_ops"] = profiles
    result["openvino_profile_ms_total"] = profile_totals
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

    # Keras on the whole test set: the same length-sorted padded batches through the network's
    # compiled decode (the graph Viterbi), fed as plain arrays vs via tf.data; and predict itself.
    if not args.skip_tf_data:
        model = BLSTMCRFModel.load(args.model)
        network, constrained = model.network, model.constrained
        decode_fn = tf.function(lambda token_ids: network.decode(token_ids, constrained=constrained),
                                input_signature=[model.input_spec()], reduce_retracing=True)
        test_ids = model.predictor.encoder.encode_many(test_x)
        order = np.argsort([len(i) for i in test_ids], kind="stable")
        batches = [pad_batch([test_ids[i] for i in order[b:b + 64]]) for b in range(0, len(order), 64)]

        def plain():
            return [decode_fn(tf.constant(b)).numpy() for b in batches]

        def via_tf_data():
            dataset = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=model.input_spec())
            return [decode_fn(b).numpy() for b in dataset.prefetch(2)]

        model.predict(test_x[:200])
        plain(), via_tf_data()  # trace
        rounds = {"plain_s": [], "tf_data_s": [], "predict_s": []}
        for _ in range(2):
            for name, run in (("tf_data_s", via_tf_data), ("plain_s", plain),
                              ("predict_s", lambda: model.predict(test_x, batch_size=64))):
                start = time.perf_counter()
                run()
                rounds[name].append(time.perf_counter() - start)
        result["keras_predict_msra_test"] = rounds

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
