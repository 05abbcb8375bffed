"""Times the BERT chart export's fused IR with and without projection_bias_pass, interleaved:
`python projection_bias_time.py 40` (needs /tmp/s3/bert_ids.npy: the 16 x 130 ids of the chart batch)."""
import sys, json, numpy as np, openvino as ov, collections
sys.path.insert(0, __import__("os").path.dirname(__file__))
from projection_bias_pass import bias_pass
from openvino.passes import Manager
from bilstm_crf_ner.runtime.benchmark import interleaved_ms
ids = np.load("/tmp/s3/bert_ids.npy")
core = ov.Core()
a = core.read_model("/tmp/s4/bert-fused-ir/model.xml")
b = core.read_model("/tmp/s4/bert-fused-ir/model.xml")
before = collections.Counter(n.get_type_name() for n in b.get_ordered_ops())
m = Manager(); m.register_pass(bias_pass()); m.run_passes(b); b.validate_nodes_and_infer_types()
after = collections.Counter(n.get_type_name() for n in b.get_ordered_ops())
print("ops changed", {k: after[k] - before[k] for k in set(before) | set(after) if after[k] != before[k]})
for hint in ("f32", "bf16"):
    ra, rb = (core.compile_model(x, "CPU", {"INFERENCE_PRECISION_HINT": hint}).create_infer_request() for x in (a, b))
    ea, eb = ra.infer({0: ids})[0].copy(), rb.infer({0: ids})[0].copy()
    print(hint, "diff", float(np.abs(ea - eb).max()), interleaved_ms([lambda: ra.infer({0: ids}), lambda: rb.infer({0: ids})], int(sys.argv[1])), flush=True)
