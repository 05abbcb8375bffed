"""``export_model``: one call from a trained BLSTMCRFModel to a self-contained deployment folder.

Folder layout::

    ir/
      model.onnx                 ONNX (token_ids [B, T] int32 -> emissions [B, T, K] float32)
      model.xml, model.bin       OpenVINO IR of the same graph
      model_int8.xml, .bin       optional: INT8 IR (NNCF, calibrated on the user's sentences)
      model_int8.onnx            optional: INT8 ONNX for ONNX Runtime (dynamic quantization, BiLSTM included)
      metadata.json              tags, schemes, CRF scores and constraints, tokenizer settings,
                                 versions, parity errors, tag agreement of each precision with f32,
                                 engine timings (16 x 128 model-only, mixed-length workload end to end), default engine
      vocab.json (+ bigram_vocab.json, lexicon.json and the lexicon's lexicon_*.npy arrays),
      bert_vocab.txt or subword_tokenizer.json: what the runtime tokenizes with
      ovms/<name>/1/model.xml    the IR again (hard links) in the layout OpenVINO Model Server loads

Every exported graph is run on a padded batch of very different lengths and compared with the
Keras network before the folder is written; a mismatch raises :class:`ExportError` and leaves
nothing behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import __version__
from ..core.batching import pad_batch, sorted_batches
from ..core.errors import ConfigError, ModelSaveError
from ..core.fileio import atomic_folder, write_json
from ..core.inference import decode_emissions, normalize_inputs
from ..runtime.backends import (
    INT8_PRECISIONS, MIN_DEFAULT_AGREEMENT, ONNXRuntimeBackend, OpenVINOBackend, cpu_precisions, prefer_static_shapes,
)
from ..runtime.benchmark import interleaved_ms
from ..runtime.layout import (
    EXPORT_FORMAT, EXPORT_FORMAT_VERSION, INT8_XML_FILE, IR_BIN_FILE, IR_XML_FILE, METADATA_FILE,
    ONNX_FILE, ORT_INT8_FILE, OVMS_FOLDER,
)
from .onnx_export import INPUT_NAME, OPSET, OUTPUT_NAME, ExportError, network_to_onnx, onnx_to_openvino

logger = logging.getLogger(__name__)

#: Row streams become the default engine's only where they time at least this much faster on the workload.
STREAMS_MARGIN = 0.05
#: Largest allowed difference between Keras and an exported f32 graph's emissions.
PARITY_TOLERANCE = 1e-3
DEFAULT_PRECISIONS = ("auto", "f32", "fastest")
#: Every ``HOLD_OUT_EVERY``-th calibration sentence measures agreement instead of calibrating
#: (when there are at least ``MIN_HELD_OUT_SPLIT`` sentences).
HOLD_OUT_EVERY, MIN_HELD_OUT_SPLIT = 4, 8


def choose_default(speeds: dict, agreement: dict, policy: str) -> tuple:
    """The engine ``(backend, precision, static_shapes)`` the runtime loads by default: the fastest
    of ``speeds`` (ms per engine) among the exact f32 engines and, with ``policy="fastest"``, the
    bf16 / INT8 engines whose tags agree with f32 on at least ``MIN_DEFAULT_AGREEMENT`` of tokens;
    a static-shape engine only where the runtime would use static shapes for that precision
    (:func:`~bilstm_crf_ner.runtime.backends.prefer_static_shapes`)."""
    by_key = {_engine_key(e): ms for e, ms in speeds.items()}

    def allowed(engine):
        backend, precision, static = engine
        if static and not prefer_static_shapes(by_key, precision):
            return False
        return precision == "f32" or (policy == "fastest"
                                      and agreement.get(_agreement_key(engine), 0.0) >= MIN_DEFAULT_AGREEMENT)

    return min(filter(allowed, speeds), key=speeds.get)


def _versions():
    import importlib.metadata as md

    out = {"bilstm_crf_ner": __version__}
    for name in ("tensorflow", "keras", "tf2onnx", "onnx", "openvino", "onnxruntime"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def sample_batch(model, rng: np.random.Generator, batch: int = 6, time: int = 23, full: bool = False) -> np.ndarray:
    """Padded ids of ``batch`` random sentences of 1 to ``time`` tokens (all ``time`` if ``full``),
    each cut to the embedding's first window."""
    lengths = np.full(batch, time) if full else np.linspace(1, time, batch).astype(int)
    sentences = []
    for length in lengths:
        tokens = model.embedding.sample_tokens(rng, int(length))
        start, stop = model.embedding.windows(tokens)[0]
        sentences.append(model.embedding.encode(tokens[start:stop]))
    return pad_batch(sentences)


def calibration_batches(model, sentences, batch_size: int = 16) -> tuple[list[np.ndarray], list[list[int]]]:
    """Padded id batches (and lengths) of ``sentences`` (strings or token lists), each cut to
    its first window and grouped by length, as INT8 calibration data."""
    encoded = []  # (ids, token count): a BERT model's ids are word pieces, its emissions tokens
    for tokens, _, _ in normalize_inputs(sentences, model.tokenize, "int8_calibration"):
        if tokens:
            start, stop = model.embedding.windows(tokens)[0]
            encoded.append((model.embedding.encode(tokens[start:stop]), stop - start))
    if not encoded:
        raise ModelSaveError("int8_calibration has no non-empty sentences")
    encoded.sort(key=lambda item: len(item[0]))
    groups = [encoded[i:i + batch_size] for i in range(0, len(encoded), batch_size)]
    return [pad_batch([ids for ids, _ in g]) for g in groups], [[n for _, n in g] for g in groups]


def _tag_agreement(model, first, second, batches, lengths) -> float:
    """Fraction of tokens whose decoded tags are equal under two backends."""
    scores, equal, total = model.predictor.scorer.crf_scores(), 0, 0
    for ids, n in zip(batches, lengths):
        a = decode_emissions(first(ids), n, scores, model.tags, model.tag_scheme, False, 0)
        b = decode_emissions(second(ids), n, scores, model.tags, model.tag_scheme, False, 0)
        equal += sum(int((x.path == y.path).sum()) for x, y in zip(a, b))
        total += sum(n)
    return equal / max(1, total)


def _engine_key(engine, streams: bool = False) -> str:
    backend, precision, static = engine
    return f"{backend}_{precision}{'_static' if static else ''}{'_streams' if streams else ''}_ms"


def _check_target(path: Path, overwrite: bool):
    if path.exists() and not path.is_dir():
        raise ModelSaveError(f"{path} is a file, not a folder")
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise ModelSaveError(f"{path} exists and is not empty; pass overwrite=True to replace it")
        metadata = path / METADATA_FILE
        try:
            is_export = json.loads(metadata.read_text(encoding="utf-8")).get("format") == EXPORT_FORMAT
        except (OSError, ValueError, AttributeError):
            is_export = False
        if not is_export:
            raise ModelSaveError(f"{path} is not an exported model folder (no valid {METADATA_FILE}); "
                                 "refusing to replace it even with overwrite=True")


def _link_or_copy(source: Path, target: Path):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def split_calibration(model, sentences):
    """``(calibration, held_out)`` padded batches of the user's INT8 calibration sentences: every
    ``HOLD_OUT_EVERY``-th sentence is held out to measure how often INT8 (and bf16) change a tag,
    the agreement that decides whether they may become the default. Too few sentences to split:
    both are the same batches (recorded as not held out)."""
    sentences = list(sentences)
    if len(sentences) < MIN_HELD_OUT_SPLIT:
        batches = calibration_batches(model, sentences)
        return batches, batches
    fit = [s for i, s in enumerate(sentences) if i % HOLD_OUT_EVERY != HOLD_OUT_EVERY - 1]
    return calibration_batches(model, fit), calibration_batches(model, sentences[HOLD_OUT_EVERY - 1::HOLD_OUT_EVERY])


def check_parity(model, network, folder: Path) -> tuple[dict, dict]:
    """Run ONNX Runtime and OpenVINO (f32) on a padded batch of very different lengths and compare
    with Keras; :class:`ExportError` beyond ``PARITY_TOLERANCE``. Returns ``(parity, backends)``."""
    ids = sample_batch(model, np.random.default_rng(0))
    reference = network(ids, training=False).numpy()
    lengths = network.sequence_lengths(ids).numpy()
    valid = np.arange(reference.shape[1])[None, :] < lengths[:, None]
    backends = {"onnxruntime": ONNXRuntimeBackend(folder / ONNX_FILE), "openvino": OpenVINOBackend(folder / IR_XML_FILE, "f32")}
    parity = {}
    for name, backend in backends.items():
        diff = float(np.abs(backend(ids) - reference)[valid].max())
        parity[f"{name}_f32_max_abs_diff"] = diff
        if not diff <= PARITY_TOLERANCE:
            raise ExportError(f"{name} output differs from Keras by {diff:.3g} on a padded batch")
    return parity, backends


def quantize_int8(model, folder: Path, calibration, held_out, f32_backend) -> tuple[dict, OpenVINOBackend]:
    """Write the INT8 IR calibrated on ``calibration``; returns its metadata entry (with the tag
    agreement with f32 on ``held_out``) and its backend."""
    from .quantize import quantize_ir

    int8 = quantize_ir(folder / IR_XML_FILE, folder / INT8_XML_FILE, calibration[0])
    backend = OpenVINOBackend(folder / INT8_XML_FILE, "int8")
    int8["token_agreement_with_f32"] = _tag_agreement(model, f32_backend, backend, *held_out)
    int8["agreement_sentences"] = sum(map(len, held_out[1]))
    int8["agreement_held_out"] = held_out is not calibration
    int8["xml"] = INT8_XML_FILE
    logger.info("export: INT8 tags equal f32 tags on %.2f%% of held-out tokens", 100 * int8["token_agreement_with_f32"])
    return int8, backend


def quantize_int8_onnxruntime(model, folder: Path, f32_backend, held_out) -> tuple[dict, ONNXRuntimeBackend]:
    """Write ONNX Runtime's INT8 model (dynamic quantization, the BiLSTM included); returns its
    metadata entry (with the tag agreement with f32 on ``held_out``) and its backend."""
    from .quantize import quantize_onnx_dynamic

    info = quantize_onnx_dynamic(folder / ONNX_FILE, folder / ORT_INT8_FILE)
    backend = ONNXRuntimeBackend(folder / ORT_INT8_FILE, "int8")
    info["token_agreement_with_f32"] = _tag_agreement(model, f32_backend, backend, *held_out)
    logger.info("export: ONNX Runtime INT8 tags equal f32 tags on %.2f%% of held-out tokens",
                100 * info["token_agreement_with_f32"])
    return info, backend


def precision_agreement(model, network, folder: Path, f32_backend, held_out, int8: dict | None,
                        ort_int8: dict | None = None) -> dict:
    """Fraction of tokens whose tag each precision keeps from f32: bf16 and INT8 with bf16 float
    parts (where the CPU has bf16) measured on ``held_out`` user sentences (random ones without),
    the INT8 models as their quantization measured it."""
    check = held_out
    if check is None:
        check_ids = [sample_batch(model, np.random.default_rng(seed), batch=16, time=64) for seed in (2, 3)]
        check = (check_ids, [network.sequence_lengths(b).numpy().tolist() for b in check_ids])
    agreement = {"f32": 1.0}
    if "bf16" in cpu_precisions():
        agreement["bf16"] = _tag_agreement(model, f32_backend, OpenVINOBackend(folder / IR_XML_FILE, "bf16"), *check)
    if int8 is not None:
        agreement["int8"] = int8["token_agreement_with_f32"]
        if "int8_bf16" in cpu_precisions():
            agreement["int8_bf16"] = _tag_agreement(model, f32_backend, OpenVINOBackend(folder / INT8_XML_FILE, "int8_bf16"),
                                                    *check)
    if ort_int8 is not None:
        agreement["onnxruntime_int8"] = ort_int8["token_agreement_with_f32"]
    return agreement


def workload_sentences(model, sentences=None, rng: np.random.Generator | None = None, count: int = 256,
                       longest: int = 128) -> list:
    """The mixed-length work the export times engines on: the user's calibration ``sentences``
    when given (strings or token lists, as ``predict`` takes them), else ``count`` random token
    lists of 2 to ``longest`` tokens (short ones more frequent, as in real text)."""
    if sentences is not None:
        return [s for s in sentences if not isinstance(s, str) or s.strip()]
    rng = rng or np.random.default_rng(4)
    lengths = np.clip(rng.gamma(2.0, longest / 5, size=count).astype(int), 2, longest)
    return [model.embedding.sample_tokens(rng, int(length)) for length in lengths]


def time_engines(model, folder: Path, backends: dict, agreement: dict, int8_backend=None, workload=None,
                 batch_size: int = 64, repeats: int = 5) -> dict:
    """Fastest ms of every engine (ONNX Runtime f32 and INT8 if exported, OpenVINO per precision with
    dynamic and static shapes) on one 16 x 128 batch (the model alone) and on the mixed-length
    ``workload`` sentences (:func:`workload_sentences`) end to end: raw input -> tokens -> ids ->
    the engine -> Viterbi -> tags, as the runtime's ``predict`` does it, so an engine whose model
    is fast but whose inputs cost more (or that compiles a new shape per batch) is not chosen by
    its model time alone. Engines take turns within each of ``repeats`` rounds (after a warm-up
    round; each turn opens with an untimed model call) and each keeps its fastest round: a busy machine only adds time, and a slow spell
    that falls on some engines' turns more than others' would otherwise decide the default.
    Returns ``{"16x128": {engine: ms}, "workload": {engine: ms}}`` with engines as
    ``(backend, precision, static_shapes)``."""
    engines = {("onnxruntime", "f32", False): backends["onnxruntime"], ("openvino", "f32", False): backends["openvino"]}
    if "onnxruntime_int8" in backends:
        engines[("onnxruntime", "int8", False)] = backends["onnxruntime_int8"]
    for precision in agreement:
        if precision == "onnxruntime_int8":
            continue
        xml = folder / (INT8_XML_FILE if precision in INT8_PRECISIONS else IR_XML_FILE)
        for static in (False, True):
            if (precision, static) == ("int8", False):
                engines[("openvino", "int8", False)] = int8_backend
            elif (precision, static) != ("f32", False):
                engines[("openvino", precision, static)] = OpenVINOBackend(xml, precision, static_shapes=static)
    sentences = workload if workload is not None else workload_sentences(model)
    timed = _fastest_rounds(model, list(engines.values()), sentences, batch_size, repeats)
    return {name: dict(zip(engines, ms)) for name, ms in timed.items()}


def _fastest_rounds(model, backends: list, sentences, batch_size: int, repeats: int) -> dict:
    """``{"16x128": [ms per backend], "workload": [ms per backend]}``: fastest of interleaved
    rounds, the model alone on a 16 x 128 batch and ``predict`` on ``sentences``, each turn
    opening with an untimed model call (the previous engine's idle threads spin on for a while)."""
    from ..core.predictor import Predictor
    from ..runtime.tagger import BackendScorer

    bench = sample_batch(model, np.random.default_rng(1), batch=16, time=128, full=True)
    warm = [lambda b=b: b(bench) for b in backends]
    crf_scores = model.predictor.scorer.crf_scores()
    predictors = [Predictor(model.embedding, BackendScorer(b, crf_scores), model.tags, model.tag_scheme,
                            model.data_scheme) for b in backends]
    return {"16x128": interleaved_ms(warm, 10, statistic="min", warm=warm),
            "workload": interleaved_ms([lambda p=p: p.predict(sentences, batch_size=batch_size) for p in predictors],
                                       repeats, statistic="min", warm=warm)}


def time_row_streams(model, folder: Path, engine: tuple, workload, streams: int | None = None,
                     batch_size: int = 64, repeats: int = 5, int8_backend=None) -> dict | None:
    """The default OpenVINO ``engine`` with and without row streams
    (:mod:`~bilstm_crf_ner.runtime.row_streams`; ``streams`` defaults to the machine's cores), timed
    as :func:`time_engines` times engines: fastest of interleaved rounds that open with an untimed
    model call, the model alone on a 16 x 128 batch and end to end on the ``workload``. Returns
    ``{"streams", "16x128": [without, with], "workload": [without, with]}`` (ms), or None where
    there is nothing to choose (ONNX Runtime, one core)."""
    backend, precision, static = engine
    streams = streams or os.cpu_count() or 1
    if backend != "openvino" or streams < 2:
        return None
    xml = folder / (INT8_XML_FILE if precision in INT8_PRECISIONS else IR_XML_FILE)
    plain = int8_backend if (precision, static) == ("int8", False) and int8_backend is not None \
        else OpenVINOBackend(xml, precision, static_shapes=static)
    split = OpenVINOBackend(xml, precision, static_shapes=static, streams=streams)
    try:
        return {"streams": streams, **_fastest_rounds(model, [plain, split], workload, batch_size, repeats)}
    finally:
        split.close()


def choose_streams(timed: dict | None) -> int:
    """Row streams for the default engine: :func:`time_row_streams`' count where they made the
    workload at least ``STREAMS_MARGIN`` faster, else 1 (an extra compiled model and a thread
    per stream are not worth less)."""
    if timed is None:
        return 1
    without, with_streams = timed["workload"]
    return timed["streams"] if with_streams <= (1 - STREAMS_MARGIN) * without else 1


def engine_table(timed: dict, agreement: dict, default: tuple) -> str:
    """The engines' timings as a text table (fastest on the workload first), marking the default
    and naming the fastest engine that is not exact, with its measured tag agreement."""
    rows = sorted(timed["workload"], key=timed["workload"].get)
    lines = [f"{'engine':30} {'16x128 ms':>10} {'workload ms':>12} {'agreement':>10}"]
    for engine in rows:
        name = f"{engine[0]} {engine[1]}{' static' if engine[2] else ''}" + (" (default)" if engine == default else "")
        agree = agreement.get(_agreement_key(engine))
        lines.append(f"{name:30} {timed['16x128'][engine]:10.2f} {timed['workload'][engine]:12.2f} "
                     f"{'-' if agree is None else f'{100 * agree:.2f}%':>10}")
    faster = [e for e in rows if e[1] != "f32" and timed["workload"][e] < timed["workload"][default]
              and agreement.get(_agreement_key(e), 0.0) >= MIN_DEFAULT_AGREEMENT]
    if faster:
        best = faster[0]
        agree = agreement.get(_agreement_key(best))
        lines.append(f"faster but not exact: {best[0]} {best[1]} ({timed['workload'][default] / timed['workload'][best]:.2f}x"
                     f" the default{'' if agree is None else f', {100 * agree:.2f}% of tags equal f32'}): "
                     f"Tagger.load(path, backend={best[0]!r}, precision={best[1]!r})")
    return "\n".join(lines)


def _agreement_key(engine) -> str:
    backend, precision, _ = engine
    return "onnxruntime_int8" if (backend, precision) == ("onnxruntime", "int8") else precision


def export_metadata(model, network, tokenizer: dict, parity: dict, speeds: dict, default: tuple, agreement: dict,
                    int8: dict | None, ovms_name: str) -> dict:
    """The export's ``metadata.json``: everything the runtime needs besides the graph and vocabularies."""
    crf = network.crf
    # The CRF carries constraint masks exactly when the model is constrained.
    allowed = None if crf is None or crf.allowed is None else dict(zip(("transitions", "start", "end"),
                                                                       (m.tolist() for m in crf.allowed)))
    return {
        "format": EXPORT_FORMAT, "format_version": EXPORT_FORMAT_VERSION,
        "tags": model.tags, "tag_scheme": model.tag_scheme, "data_scheme": model.data_scheme,
        "crf": None if crf is None else {
            "transitions": crf.transitions.numpy().tolist(), "start": crf.start_scores.numpy().tolist(),
            "end": crf.end_scores.numpy().tolist(),
        },
        "allowed": allowed,
        "tokenizer": tokenizer,
        "graph": {"input": INPUT_NAME, "output": OUTPUT_NAME, "opset": OPSET, "num_tags": len(model.tags)},
        "parity": parity, "speed_16x128": speeds,
        "default_backend": default[0], "default_precision": default[1], "default_static_shapes": default[2],
        "precision_agreement": agreement, "int8": int8,
        "ovms_model": f"{OVMS_FOLDER}/{ovms_name}",
        "versions": _versions(),
    }


def link_ovms_layout(folder: Path, ovms_name: str) -> None:
    """The IR again (hard links where possible) as ``ovms/<name>/1/``, the layout OpenVINO Model Server loads."""
    ovms = folder / OVMS_FOLDER / ovms_name / "1"
    ovms.mkdir(parents=True)
    for name in (IR_XML_FILE, IR_BIN_FILE):
        _link_or_copy(folder / name, ovms / name)


def _check_writable(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(path.parent, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        raise ModelSaveError(f"cannot write to {path.parent}")


def export_model(model, path, overwrite: bool = False, ovms_name: str = "ner", measure: bool = True,
                 compress_to_fp16: bool = False, int8_calibration=None, default_precision: str = "auto",
                 progress: bool = False) -> Path:
    """Export a fitted :class:`~bilstm_crf_ner.BLSTMCRFModel` to ``path`` (see the module docstring).

    Args:
        overwrite: replace an existing export folder at ``path`` (a non-empty folder that is
            not an export is never replaced).
        ovms_name: model name of the OpenVINO Model Server layout (``ovms/<name>/1/``).
        measure: time ONNX Runtime and OpenVINO (f32, bf16, INT8; dynamic and static shapes)
            on a 16 x 128 batch and make the fastest allowed engine the runtime's default;
            without it OpenVINO f32 is the default.
        default_precision: ``"f32"`` (the runtime's default engine gives exactly the Keras
            model's tags), ``"fastest"`` (bf16 or INT8 may become the default when they are
            measured faster and keep at least ``MIN_DEFAULT_AGREEMENT`` of the tags) or
            ``"auto"`` (default): ``"fastest"`` when ``int8_calibration`` is given (asking for
            an INT8 model is asking to use it), else ``"f32"``.
        compress_to_fp16: store IR weights in fp16 (smaller files; computation precision is
            chosen at load time).
        int8_calibration: sentences (strings or token lists, a few hundred of the user's data)
            to calibrate an INT8 IR on (NNCF post-training quantization; needs ``nncf``); the
            runtime loads it with ``precision="int8"``. Every 4th sentence (from 8 on) is kept
            out of calibration to measure the INT8 and bf16 tag agreement with f32, recorded in
            the metadata.
        progress: show a progress bar over the export steps.
    """
    network = model.float32_network()  # raises NotFittedError; float32 (the runtime picks its precision)
    if default_precision not in DEFAULT_PRECISIONS:
        raise ConfigError(f"default_precision must be one of {DEFAULT_PRECISIONS}, not {default_precision!r}")
    if default_precision == "auto":
        default_precision = "f32" if int8_calibration is None else "fastest"
    path = Path(path)
    _check_target(path, overwrite)
    _check_writable(path)
    calibration, held_out = (None, None) if int8_calibration is None else split_calibration(model, int8_calibration)
    steps = ["ONNX", "OpenVINO IR", "parity check"] + (["INT8"] if calibration else []) + (["timing"] if measure else [])
    bar = tqdm(total=len(steps), unit="step", disable=not progress, leave=False)

    def step(name):
        if name != steps[0]:
            bar.update()  # the previous step is done
        bar.set_description(f"export: {name}")
        logger.info("export: %s", name)

    with atomic_folder(path) as tmp:
        step("ONNX")
        network_to_onnx(network, model.input_spec(), tmp / ONNX_FILE)
        step("OpenVINO IR")
        fused = onnx_to_openvino(tmp / ONNX_FILE, tmp / IR_XML_FILE, compress_to_fp16)
        step("parity check")
        parity, backends = check_parity(model, network, tmp)
        int8 = int8_backend = ort_int8 = None
        if calibration:
            step("INT8")
            int8, int8_backend = quantize_int8(model, tmp, calibration, held_out, backends["openvino"])
            ort_int8, backends["onnxruntime_int8"] = quantize_int8_onnxruntime(model, tmp, backends["onnxruntime"],
                                                                               held_out)
        agreement = precision_agreement(model, network, tmp, backends["openvino"], held_out, int8, ort_int8)
        speeds, workload_speeds, default, streams = {}, {}, ("openvino", "f32", False), 1
        if measure:
            step("timing")
            source = "the calibration sentences" if int8_calibration is not None else "random mixed-length sentences"
            workload = workload_sentences(model, int8_calibration)
            timed = time_engines(model, tmp, backends, agreement, int8_backend, workload)
            speeds = {_engine_key(e): ms for e, ms in timed["16x128"].items()}
            workload_speeds = {_engine_key(e): ms for e, ms in timed["workload"].items()}
            default = choose_default(timed["workload"], agreement, default_precision)
            logger.info("export: engines on a 16 x 128 batch (model only) and end to end on %s (ms):\n%s", source,
                        engine_table(timed, agreement, default))
            streamed = time_row_streams(model, tmp, default, workload, int8_backend=int8_backend)
            streams = choose_streams(streamed)
            if streamed is not None:
                key = _engine_key(default, streams=True)
                speeds[key], workload_speeds[key] = streamed["16x128"][1], streamed["workload"][1]
                logger.info("export: %s with %d row streams: %.2f ms on the workload against %.2f without; %s",
                            " ".join(map(str, default[:2])), streamed["streams"], streamed["workload"][1],
                            streamed["workload"][0], "used by default" if streams > 1 else "not used")
        bar.update()
        bar.close()
        tokenizer = model.embedding.encoder.save(tmp)
        metadata = export_metadata(model, network, tokenizer, parity, speeds, default, agreement, int8, ovms_name)
        metadata["graph"]["openvino_fused"] = fused
        metadata["speed_workload"] = workload_speeds
        metadata["default_streams"] = streams
        metadata["speed_statistic"] = "fastest of interleaved rounds (ms)" if measure else None
        metadata["onnxruntime_int8"] = ort_int8
        write_json(tmp / METADATA_FILE, metadata, indent=1)
        link_ovms_layout(tmp, ovms_name)
    logger.info("export: wrote %s", path)
    return path
