"""Per-op profile of an export's IR at static shape 16 x 130 (the 16 x 128-character MSRA test
batch of `benchmarks/ir_fusion.py`, the batch `bilstm-crf-ner benchmark` times): milliseconds per
op type and the most expensive nodes, averaged over 20 calls after 5 (OpenVINO's PERF_COUNT;
profiling adds time). Run from the repository root:

    python benchmarks/results/exploration/default_engine_profile.py /tmp/bert-ir model_int8.xml bf16
"""
import sys
from collections import Counter

import openvino as ov

sys.path.insert(0, "benchmarks")
from ir_fusion import batches  # noqa: E402  (the benchmarks' own batch builder)

export, xml, hint = sys.argv[1], sys.argv[2], sys.argv[3]
ids, _ = batches(export, "../shared/data/msra", 128)["16x128"]
print("batch", ids.shape)
core = ov.Core()
model = core.read_model(f"{export}/{xml}")
model.reshape({0: list(ids.shape)})
request = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERF_COUNT": True}).create_infer_request()
by_type, by_node = Counter(), Counter()
for i in range(25):
    request.infer({0: ids})
    if i >= 5:
        for info in request.profiling_info:
            ms = info.real_time.total_seconds() * 1e3 / 20
            by_type[f"{info.node_type} ({info.exec_type})"] += ms
            by_node[f"{info.node_name} [{info.node_type} {info.exec_type}]"] += ms
print(round(sum(by_type.values()), 2), "ms")
for name, ms in by_type.most_common(16):
    print(f"  {ms:7.3f} {name}")
print("top nodes")
for name, ms in by_node.most_common(25):
    print(f"  {ms:7.3f} {name}")
