"""bilstm_crf_ner: BiLSTM-CRF sequence labeling on Keras 3, exported to ONNX and OpenVINO.

>>> from bilstm_crf_ner import BLSTMCRFModel, BareEmbedding
>>> model = BLSTMCRFModel(BareEmbedding(embedding_dim=128))

Public names are imported lazily, so ``import bilstm_crf_ner.core.tags`` (or the deployment
runtime) does not import TensorFlow. ``pip install bilstm_crf_ner[runtime]`` installs only
what the runtime needs; training needs ``bilstm_crf_ner[train]`` (TensorFlow, Keras, keras-hub).
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "BLSTMCRFModel": "keras.model",
    "BareEmbedding": "keras.embeddings",
    "BERTEmbedding": "keras.embeddings",
    "TransformerEmbedding": "keras.embeddings",
    "Embedding": "keras.embeddings",
    "EntityF1Callback": "keras.callbacks",
    "TrainingTimeBudget": "keras.callbacks",
    "Entity": "core.entities",
    "EvaluationReport": "core.evaluation",
    "entity_errors": "core.evaluation",
    "plot_history": "keras.plotting",
    "read_conll": "corpus",
    "read_word2vec": "corpus",
    "write_conll": "corpus",
    "read_spans": "corpus",
    "write_spans": "corpus",
    "spans_to_tags": "corpus",
    "BilstmCrfNerError": "core.errors",
    "ConfigError": "core.errors",
    "CorpusFormatError": "core.errors",
    "DatasetError": "core.errors",
    "InputError": "core.errors",
    "ModelLoadError": "core.errors",
    "ModelSaveError": "core.errors",
    "NotFittedError": "core.errors",
    "TagSchemeError": "core.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        try:
            module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        except ModuleNotFoundError as exc:
            from .core.errors import missing_dependency

            clearer = missing_dependency(exc)
            if clearer is None:
                raise
            raise clearer from exc
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
