"""Experiment: fuse the exported BERT's attention into OpenVINO's ScaledDotProductAttention.

Pattern per layer (tf2onnx lowering of keras-hub attention), found in /tmp/chart-bert-ir:
  scores = Transpose(MatMul(K [B,H,T,D], Transpose(Qscaled) [B,H,D,T]))        -> [B,H,Tq,Tk]
  probs  = Softmax(scores * keep + bias) ; probs = probs * keep + bias2
  out    = MatMul(probs, V [B,H,T,D])
Replaced by SDPA(Q [B,H,T,D], K, V, attn_mask=bias broadcast, scale=1).
"""
import sys, time
import numpy as np
import openvino as ov
import openvino.opset13 as ops

core = ov.Core()
model = core.read_model(sys.argv[1])
count = 0
for node in model.get_ordered_ops():
    if node.get_type_name() != "Softmax":
        continue
    add = node.input_value(0).get_node()
    if add.get_type_name() != "Add":
        continue
    mul, bias = add.input_value(0), add.input_value(1)
    if mul.get_node().get_type_name() != "Multiply":
        mul, bias = bias, mul
    mul = mul.get_node()
    t2 = [i for i in mul.input_values() if i.get_node().get_type_name() == "Transpose"]
    if len(t2) != 1:
        continue
    matmul = t2[0].get_node().input_value(0).get_node()
    if matmul.get_type_name() != "MatMul":
        continue
    k4 = matmul.input_value(0)            # [B,H,T,D]
    qT = matmul.input_value(1).get_node()  # Transpose -> [B,H,D,T]
    q_src = qT.input_value(0)              # [B,T,H,D]
    # consumer chain after softmax: Multiply -> Add -> MatMul(probs, V)
    after = list(node.output(0).get_target_inputs())[0].get_node()
    after_add = list(after.output(0).get_target_inputs())[0].get_node()
    out_mm = list(after_add.output(0).get_target_inputs())[0].get_node()
    if out_mm.get_type_name() != "MatMul":
        continue
    v4 = out_mm.input_value(1)
    q4 = ops.transpose(q_src, ops.constant(np.array([0, 2, 1, 3], dtype=np.int64)))
    mask = ops.convert(bias, ov.Type.f32) if bias.get_element_type() != ov.Type.f32 else bias
    sdpa = ops.scaled_dot_product_attention(q4, k4, v4, mask, ops.constant(np.float32(1.0)), causal=False)
    out_mm.output(0).replace(sdpa.output(0))
    count += 1
print("fused", count, "attention blocks")
model.validate_nodes_and_infer_types()
ov.save_model(model, "/tmp/s3/bert_sdpa.xml")
