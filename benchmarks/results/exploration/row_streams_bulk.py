import sys, time
import openvino as ov, numpy as np
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.runtime.benchmark import bulk_batches, interleaved_times
from bilstm_crf_ner.corpus import msra_files, read_conll
exp, xml, hint = sys.argv[1], sys.argv[2], sys.argv[3]
core = ov.Core()
t = Tagger.load(exp, backend="openvino", precision="f32")
texts = ["".join(s) for s in read_conll(msra_files("/work/shared/data/msra")["test"])[0]][:1000]
batches = bulk_batches(t, texts, 64)
print(len(batches), "batches", sum(b.shape[0] * b.shape[1] for b in batches), "padded tokens")
m = core.read_model(f"{exp}/{xml}")
lat = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
tp = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint, "NUM_STREAMS": 2, "INFERENCE_NUM_THREADS": 2})
reqs = [tp.create_infer_request() for _ in range(2)]
def latency():
    return [lat.infer({0: b})[0].copy() for b in batches]
def split():
    out = []
    for b in batches:
        h = (b.shape[0] + 1) // 2
        parts = [b[:h], b[h:]]
        for r, p in zip(reqs, parts): r.start_async({0: p})
        for r in reqs: r.wait()
        o = [r.get_output_tensor(0).data for r in reqs]
        T = max(x.shape[1] for x in o)
        out.append(np.concatenate([np.pad(x, [(0, 0), (0, T - x.shape[1]), (0, 0)]) for x in o]))
    return out
q = ov.AsyncInferQueue(tp, 2)
res = [None] * len(batches)
q.set_callback(lambda r, i: res.__setitem__(i, r.get_output_tensor(0).data.copy()))
def inflight():
    for i, b in enumerate(batches): q.start_async({0: b}, i)
    q.wait_all(); return res
a, b2, c = latency(), split(), [x.copy() for x in inflight()]
print("diff split", max(float(np.abs(x - y[:, :x.shape[1]]).max()) for x, y in zip(a, b2)), "inflight", max(float(np.abs(x - y).max()) for x, y in zip(a, c)))
runs = [latency, split, inflight]
tt = interleaved_times(runs, 3)
print("latency mode %.2f s | split 2 streams %.2f s | whole batches in flight %.2f s (fastest)" % tuple(min(x) / 1e3 for x in tt))
