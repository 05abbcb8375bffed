"""Bulk tagging speed of an export per engine and batch size: the first 2,000 MSRA test sentences,
engines and sizes in turns, best of 3 rounds (ONNX Runtime INT8, OpenVINO bf16 dynamic and static).

    python benchmarks/results/exploration/bulk_batch_size.py /tmp/chart-lexicon-ir 32,64,128,256
"""
import sys

from bilstm_crf_ner.corpus import msra_files, read_conll
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.runtime.benchmark import interleaved_ms

export = sys.argv[1]
sizes = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [32, 64, 128, 256]
texts = ["".join(s) for s in read_conll(msra_files("../shared/data/msra")["test"])[0][:2000]]
taggers = {"onnxruntime int8": Tagger.load(export, backend="onnxruntime", precision="int8"),
           "openvino bf16": Tagger.load(export, backend="openvino", precision="bf16"),
           "openvino bf16 static": Tagger.load(export, backend="openvino", precision="bf16", static_shapes=True)}
for tagger in taggers.values():
    for size in sizes:
        tagger.predict(texts, batch_size=size)  # warm up (static shapes compile here)
turns = [(name, size) for size in sizes for name in taggers]
fastest = dict(zip(turns, interleaved_ms([lambda t=taggers[name], s=size: t.predict(texts, batch_size=s)
                                          for name, size in turns], 3, statistic="min")))
for size in sizes:
    print(size, {name: round(len(texts) / fastest[(name, size)] * 1e3) for name in taggers}, "sentences/s (best of 3)")
