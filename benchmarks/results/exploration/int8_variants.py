"""Two variants of an export's INT8 IR against it, INT8 with bf16 float parts at static 16 x 130
(the `ir_fusion.py` 16 x 128-character batch), medians of 30 interleaved calls:

- ``gelu``: the FFN's erf GELU replaced by its tanh form (emissions and best tags compared);
- ``attention``: NNCF run again with the attention (``ScaledDotProductAttention``) left float as
  well as the export's float ops (225 MSRA train sentences), written next to this script's
  output as /tmp/int8_float_attention.xml; best tags against f32 on 320 test sentences.

    python benchmarks/results/exploration/int8_variants.py /tmp/bert-ir gelu
    python benchmarks/results/exploration/int8_variants.py /tmp/bert-ir attention
"""
import sys

import numpy as np
import openvino as ov
from openvino import opset13 as op

sys.path.insert(0, "benchmarks")
from ir_fusion import batches, padded_batch  # noqa: E402

from bilstm_crf_ner.corpus import msra_files, read_conll  # noqa: E402
from bilstm_crf_ner.runtime import Tagger  # noqa: E402
from bilstm_crf_ner.runtime.benchmark import interleaved_ms  # noqa: E402

export, variant = sys.argv[1], sys.argv[2]
core = ov.Core()
ids, _ = batches(export, "../shared/data/msra", 128)["16x128"]


def compiled(model, hint="bf16", static=True, profile=False):
    if static:
        model.reshape({0: list(ids.shape)})
    return core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERF_COUNT": profile})


def interleaved(models: dict) -> dict:
    runs = [lambda r=m.create_infer_request(): r.infer({0: ids}) for m in models.values()]
    return {name: round(ms, 2) for name, ms in zip(models, interleaved_ms(runs, 30, warm=runs))}


int8_xml = f"{export}/model_int8.xml"
if variant == "gelu":
    tanh = core.read_model(int8_xml)
    for node in tanh.get_ops():
        if node.get_type_name() == "Gelu":
            node.output(0).replace(op.gelu(node.input_value(0), "tanh").output(0))
    models = {"erf GELU": compiled(core.read_model(int8_xml)), "tanh GELU": compiled(tanh)}
    print("16 x 130 ms:", interleaved(models))
    a, b = (m({0: ids})[0] for m in models.values())
    print("best tag equal on", (a.argmax(-1) == b.argmax(-1)).mean(), "of positions; max |diff|", np.abs(a - b).max())
else:
    import nncf

    from bilstm_crf_ner.export.quantize import emission_projection
    from bilstm_crf_ner.export.quantizer_hoisting import hoist_quantizers

    encoder = Tagger.load(export, backend="openvino", precision="f32").predictor.encoder
    corpus = msra_files("../shared/data/msra")

    def sentences(split, count, skip=0):
        texts = sorted(("".join(s)[:126] for s in read_conll(corpus[split])[0][skip:skip + count]), key=len)
        return [padded_batch(encoder, texts[i:i + 16]) for i in range(0, len(texts), 16)]

    f32 = core.read_model(f"{export}/model.xml")
    quantized = nncf.quantize(f32, nncf.Dataset([b for b, _ in sentences("train", 225)]), subset_size=15,
                              model_type=nncf.ModelType.TRANSFORMER,
                              ignored_scope=nncf.IgnoredScope(names=emission_projection(f32), validate=False,
                                                              types=["LSTMSequence", "ScaledDotProductAttention"]))
    hoist_quantizers(quantized)
    ov.save_model(quantized, "/tmp/int8_float_attention.xml", compress_to_fp16=False)
    models = {"export's INT8": compiled(core.read_model(int8_xml)),
              "attention float": compiled(core.read_model("/tmp/int8_float_attention.xml"))}
    print("16 x 130 ms:", interleaved(models))
    reference = compiled(core.read_model(f"{export}/model.xml"), "f32", static=False)
    for name, xml in (("export's INT8", int8_xml), ("attention float", "/tmp/int8_float_attention.xml")):
        dynamic = compiled(core.read_model(xml), static=False)
        equal = total = 0
        for batch, lengths in sentences("test", 320, 1000):
            a, b = reference(batch)[0], dynamic(batch)[0]
            for row, length in enumerate(lengths):  # word pieces: [CLS] + characters + [SEP]
                equal += int((a[row, :length + 2].argmax(-1) == b[row, :length + 2].argmax(-1)).sum())
                total += length + 2
        print(name, f"best tag = f32 on {100 * equal / total:.2f}% of {total} positions")
