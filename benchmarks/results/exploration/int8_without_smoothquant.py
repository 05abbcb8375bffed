"""Experiment: NNCF's transformer scheme without SmoothQuant on the fused BERT 4x256 export
(/tmp/s4/bert-fused-ir3, docs/benchmarks.md "Fused attention and layer norms"): tag agreement with
f32 on 320 MSRA test sentences and interleaved model times against bf16 and the exported INT8 IR.
Output in README.md."""
import sys, json, numpy as np, openvino as ov, nncf
from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, AdvancedSmoothQuantParameters
from bilstm_crf_ner.runtime import Tagger
from bilstm_crf_ner.corpus.conll import read_conll
from bilstm_crf_ner.core.batching import pad_batch
from bilstm_crf_ner.runtime.benchmark import interleaved_ms
from bilstm_crf_ner.export.quantize import emission_projection
exp = "/tmp/s4/bert-fused-ir3"
x, _ = read_conll("/work/shared/data/msra/train.bio")
enc = Tagger.load(exp, backend="openvino", precision="f32").predictor.encoder
cal = [pad_batch(enc.encode_many([enc.tokenize("".join(s))[0] for s in x[i:i+16]])) for i in range(0, 224, 16)]
core = ov.Core()
m = core.read_model(f"{exp}/model.xml")
q = nncf.quantize(m, nncf.Dataset(cal), subset_size=len(cal), model_type=nncf.ModelType.TRANSFORMER,
                  ignored_scope=nncf.IgnoredScope(names=emission_projection(m), types=["LSTMSequence"], validate=False),
                  advanced_parameters=AdvancedQuantizationParameters(smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=-1)))
ov.save_model(q, "/tmp/s4/int8_nosq.xml", compress_to_fp16=False)
ids = np.load("/tmp/s3/bert_ids.npy")
test, _ = read_conll("/work/shared/data/msra/test.bio")
held = [pad_batch(enc.encode_many([enc.tokenize("".join(s))[0] for s in test[i:i+16]])) for i in range(0, 320, 16)]
models = {"bf16": (f"{exp}/model.xml", "bf16"), "int8_bf16 sq": (f"{exp}/model_int8.xml", "bf16"), "int8_bf16 nosq": ("/tmp/s4/int8_nosq.xml", "bf16"),
          "f32": (f"{exp}/model.xml", "f32")}
reqs = {k: core.compile_model(core.read_model(p), "CPU", {"INFERENCE_PRECISION_HINT": h}).create_infer_request() for k, (p, h) in models.items()}
ref = [reqs["f32"].infer({0: b})[0].argmax(-1) for b in held]
for k, r in reqs.items():
    agree = np.mean(np.concatenate([(r.infer({0: b})[0].argmax(-1) == a).ravel() for b, a in zip(held, ref)]))
    print(k, "argmax agreement with f32 (incl. padding)", round(float(agree), 5))
names = [k for k in reqs if k != "f32"]
ms = interleaved_ms([lambda r=reqs[k]: r.infer({0: ids}) for k in names], 30)
print(dict(zip(names, [round(v, 1) for v in ms])))
mixed = held[0]
ms = interleaved_ms([lambda r=reqs[k]: r.infer({0: mixed}) for k in names], 30)
print("mixed", dict(zip(names, [round(v, 1) for v in ms])))
