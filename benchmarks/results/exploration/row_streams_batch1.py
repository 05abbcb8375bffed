import sys
import openvino as ov, numpy as np
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.runtime.benchmark import interleaved_times
from bilstm_crf_ner.corpus import msra_files, read_conll
from bilstm_crf_ner.core.batching import pad_batch
exp, xml, hint = sys.argv[1], sys.argv[2], sys.argv[3]
core = ov.Core()
t = Tagger.load(exp, backend="openvino", precision="f32")
enc = t.predictor.encoder
texts = ["".join(s) for s in read_conll(msra_files("/work/shared/data/msra")["test"])[0]][:40]
singles = [pad_batch(enc.encode_many([enc.tokenize(x)[0]])) for x in texts]
m = core.read_model(f"{exp}/{xml}")
lat = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
tp = core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": hint, "NUM_STREAMS": 2, "INFERENCE_NUM_THREADS": 2}).create_infer_request()
runs = [lambda: [lat.infer({0: s}) for s in singles], lambda: [tp.infer({0: s}) for s in singles]]
tt = interleaved_times(runs, 10, warm=runs)
print(exp, hint, "batch-1 x40: latency mode %.1f ms, one stream of two %.1f ms (medians)" % tuple(float(np.median(x)) for x in tt))
