"""Typed errors raised by bilstm_crf_ner.

Every error a user can cause derives from :class:`BilstmCrfNerError`, and most also derive
from the matching builtin (``ValueError``, ``FileNotFoundError``) so ordinary ``except``
clauses keep working.
"""


class BilstmCrfNerError(Exception):
    """Base class of all errors raised by this library."""


class InputError(BilstmCrfNerError, ValueError):
    """The data passed to ``fit``/``predict``/``evaluate`` is malformed."""


class TagSchemeError(BilstmCrfNerError, ValueError):
    """A tag does not belong to the tag scheme in use, or a scheme is unknown."""


class CorpusFormatError(BilstmCrfNerError, ValueError):
    """A corpus file is malformed; the message names the file and line."""

    def __init__(self, path, line_number, message):
        self.path = str(path)
        self.line_number = line_number
        super().__init__(f"{self.path}:{line_number}: {message}")


class NotFittedError(BilstmCrfNerError, RuntimeError):
    """The model must be fitted (or loaded) before this call."""


class ModelLoadError(BilstmCrfNerError, OSError):
    """A folder is not a saved model, is incomplete, or was written by an incompatible version."""


class ModelSaveError(BilstmCrfNerError, OSError):
    """A model could not be saved to the requested path."""


class ConfigError(BilstmCrfNerError, ValueError):
    """A constructor argument is invalid, or invalid for the checkpoint or data it is used with
    (raised when the object is built: one error policy for every constructor)."""


class DatasetError(BilstmCrfNerError, OSError):
    """A public corpus could not be downloaded, failed its checksum, or is not where it was looked for;
    the one-line message says how to place the files by hand."""


#: Packages that ``pip install "bilstm_crf_ner[train]"`` brings (the runtime needs none of them).
TRAINING_PACKAGES = frozenset({"tensorflow", "keras", "keras_hub", "seqeval", "safetensors", "huggingface_hub"})


#: Packages that ``pip install "bilstm_crf_ner[export]"`` adds for ONNX / OpenVINO export and INT8.
EXPORT_PACKAGES = frozenset({"tf2onnx", "onnx", "onnxruntime", "openvino", "nncf"})


def missing_dependency(exc: ModuleNotFoundError) -> ModuleNotFoundError | None:
    """A clearer error for an optional dependency this install lacks, else ``None``."""
    package = (exc.name or "").split(".")[0]
    if package in EXPORT_PACKAGES:
        return ModuleNotFoundError(f"this needs {package}, which is not installed: pip install \"bilstm_crf_ner[export]\" "
                                   "(export, INT8) or \"bilstm_crf_ner[runtime]\" (exported models only)", name=package)
    if package not in TRAINING_PACKAGES:
        return None
    if package == "seqeval":  # scoring with the runtime needs seqeval only, not TensorFlow
        return ModuleNotFoundError("entity scores need seqeval, which the runtime-only install leaves out: "
                                   "pip install seqeval", name=package)
    return ModuleNotFoundError(f"this needs {package}, which the runtime-only install leaves out: "
                               f"pip install \"bilstm_crf_ner[train]\" (or [export] to export models)", name=package)
