import sys, time, json
import numpy as np
import openvino as ov
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.corpus.conll import read_conll
from bilstm_crf_ner.runtime.benchmark import benchmark_batch, interleaved_ms
from bilstm_crf_ner.core.batching import pad_batch
x, y = read_conll("/work/shared/data/msra/test.bio")
t = Tagger.load("/tmp/chart-bert-ir", backend="openvino", precision="f32")
enc = t.predictor.encoder
batch = benchmark_batch(["".join(s) for s in x], 16, 128)
ids = pad_batch(enc.encode_many([enc.tokenize(b)[0] for b in batch]))
mixed = pad_batch(enc.encode_many([s for s in x[:16]]))
core = ov.Core()
res = {"cpu": open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].split("\n")[0].strip(), "batch": list(ids.shape)}
for hint in ("f32", "bf16"):
    a = core.compile_model(core.read_model("/tmp/chart-bert-ir/model.xml"), "CPU", {"INFERENCE_PRECISION_HINT": hint})
    b = core.compile_model(core.read_model("/tmp/s3/bert_sdpa.xml"), "CPU", {"INFERENCE_PRECISION_HINT": hint})
    ra, rb = a.create_infer_request(), b.create_infer_request()
    for name, inp in (("16x128", ids), ("mixed", mixed)):
        ea, eb = ra.infer({0: inp})[0], rb.infer({0: inp})[0]
        lengths = [len(enc.tokenize("".join(s))[0]) for s in x[:16]] if name == "mixed" else None
        diff = float(np.abs(ea - eb).max()) if lengths is None else max(float(np.abs(ea[i, :n] - eb[i, :n]).max()) for i, n in enumerate(lengths))
        res[f"{hint}_{name}_max_abs_diff"] = diff
        res[f"{hint}_{name}_argmax_equal"] = float((ea.argmax(-1) == eb.argmax(-1)).mean())
    ms = interleaved_ms([lambda: ra.infer({0: ids}), lambda: rb.infer({0: ids})], 30)
    res[f"{hint}_ms_original_fused"] = ms
    print(hint, ms, res[f"{hint}_16x128_max_abs_diff"], res[f"{hint}_mixed_max_abs_diff"])
    # per-op profile of the fused model
    c = core.compile_model(core.read_model("/tmp/s3/bert_sdpa.xml"), "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERF_COUNT": True})
    r = c.create_infer_request()
    for _ in range(5): r.infer({0: ids})
    from collections import Counter
    tot = Counter()
    for info in r.profiling_info:
        tot[f"{info.node_type} ({info.exec_type})"] += info.real_time.total_seconds() * 1e3
    res[f"{hint}_fused_profile_top"] = dict(tot.most_common(8))
    res[f"{hint}_fused_profile_total"] = sum(tot.values())
json.dump(res, open("/tmp/s3/sdpa_result.json", "w"), indent=1)
print(json.dumps({k: v for k, v in res.items() if "profile" in k}, indent=0)[:1500])
