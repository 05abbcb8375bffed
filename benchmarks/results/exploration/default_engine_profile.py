"""Per-op profile of an export's IR at static shape 16 x 130 (16 MSRA test texts cut to 128
characters, as `bilstm-crf-ner benchmark` builds its batch): milliseconds per op type and the
most expensive nodes, averaged over 20 calls after 5 (OpenVINO's PERF_COUNT; profiling adds time).

    python benchmarks/results/exploration/default_engine_profile.py /tmp/bert-ir model_int8.xml bf16
"""
import sys, numpy as np, openvino as ov
from collections import Counter
from bilstm_crf_ner.core.batching import pad_batch
from bilstm_crf_ner.corpus import msra_files, read_conll
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.runtime.benchmark import benchmark_batch
export, xml, hint = sys.argv[1], sys.argv[2], sys.argv[3]
enc = Tagger.load(export, backend="openvino", precision="f32").predictor.encoder
texts = ["".join(s) for s in read_conll(msra_files("../shared/data/msra")["test"])[0]]
batch = benchmark_batch(texts, 16, 128)
ids = pad_batch(enc.encode_many([enc.tokenize(t)[0] for t in batch]))
print("batch", ids.shape)
core = ov.Core()
m = core.read_model(f"{export}/{xml}")
m.reshape({0: list(ids.shape)})
req = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERF_COUNT": True}).create_infer_request()
tot = Counter(); names = Counter()
for i in range(25):
    req.infer({0: ids})
    if i >= 5:
        for info in req.profiling_info:
            tot[f"{info.node_type} ({info.exec_type})"] += info.real_time.total_seconds() * 1e3 / 20
            names[f"{info.node_name} [{info.node_type} {info.exec_type}]"] += info.real_time.total_seconds() * 1e3 / 20
print(round(sum(tot.values()), 2), "ms")
for k, v in tot.most_common(16): print(f"  {v:7.3f} {k}")
print("top nodes")
for k, v in names.most_common(25): print(f"  {v:7.3f} {k}")
