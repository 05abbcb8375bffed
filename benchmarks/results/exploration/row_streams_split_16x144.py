import sys
sys.path.insert(0, "benchmarks")
import openvino as ov, numpy as np
from ir_fusion import batches
from bilstm_crf_ner.runtime.benchmark import interleaved_times
core = ov.Core()
exp = "/tmp/s5/bert-ir"
ids = batches(exp, "/work/shared/data/msra", 128)["16x128"][0]
xml = sys.argv[1] if len(sys.argv) > 1 else "model_int8.xml"
m = core.read_model(f"{exp}/{xml}"); m.reshape({0: [16, 144, 2]})
lat = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
m2 = core.read_model(f"{exp}/{xml}"); m2.reshape({0: [8, 144, 2]})
tp = core.compile_model(m2, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "NUM_STREAMS": 2, "INFERENCE_NUM_THREADS": 2})
print("streams", tp.get_property("NUM_STREAMS"), "threads", tp.get_property("INFERENCE_NUM_THREADS"))
q = ov.AsyncInferQueue(tp, 2)
out = [None, None]
def cb(req, i): out[i] = req.get_output_tensor(0).data.copy()
q.set_callback(cb)
x = np.zeros((16, 144, 2), ids.dtype); x[:, :130] = ids
def split():
    q.start_async({0: x[:8]}, 0); q.start_async({0: x[8:]}, 1); q.wait_all()
    return np.concatenate(out)
a = lat.infer({0: x})[0].copy(); b = split()
print("max diff", float(np.abs(a - b).max()))
runs = [lambda: lat.infer({0: x}), split]
t = interleaved_times(runs, 30, warm=runs)
print("latency 16x144: min %.1f med %.1f | 2 streams 2x8x144: min %.1f med %.1f | paired %.2fx" % (
    min(t[0]), np.median(t[0]), min(t[1]), np.median(t[1]), float(np.median(np.array(t[0]) / np.array(t[1])))))
