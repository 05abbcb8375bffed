"""bilstm_crf_ner: BiLSTM-CRF sequence labeling on Keras 3, exported to ONNX and OpenVINO.

>>> from bilstm_crf_ner import BLSTMCRFModel, BareEmbedding
>>> model = BLSTMCRFModel(BareEmbedding(embedding_dim=128))

Public names are imported lazily, so ``import bilstm_crf_ner.tags`` (or the deployment
runtime) does not import TensorFlow. ``pip install bilstm_crf_ner[runtime]`` installs only
what the runtime needs; training needs ``bilstm_crf_ner[train]`` (TensorFlow, Keras, keras-hub).
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "BLSTMCRFModel": "model",
    "BareEmbedding": "embeddings",
    "BERTEmbedding": "embeddings",
    "Embedding": "embeddings",
    "EntityF1Callback": "callbacks",
    "TrainingTimeBudget": "callbacks",
    "Entity": "entities",
    "EvaluationReport": "evaluation",
    "entity_errors": "evaluation",
    "plot_history": "plotting",
    "read_conll": "corpus",
    "read_word2vec": "vectors",
    "write_conll": "corpus",
    "BilstmCrfNerError": "errors",
    "ConfigError": "errors",
    "CorpusFormatError": "errors",
    "InputError": "errors",
    "ModelLoadError": "errors",
    "ModelSaveError": "errors",
    "NotFittedError": "errors",
    "TagSchemeError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        try:
            module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        except ModuleNotFoundError as exc:
            from .errors import missing_dependency

            clearer = missing_dependency(exc)
            if clearer is None:
                raise
            raise clearer from exc
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
