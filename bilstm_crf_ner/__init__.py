"""bilstm_crf_ner: BiLSTM-CRF sequence labeling on Keras 3, exported to ONNX and OpenVINO.

>>> from bilstm_crf_ner import BLSTMCRFModel, BareEmbedding
>>> model = BLSTMCRFModel(BareEmbedding(embedding_dim=128))
"""

__version__ = "0.1.0"

from .corpus import read_conll, write_conll  # noqa: E402
from .embeddings import BareEmbedding, Embedding  # noqa: E402
from .entities import Entity  # noqa: E402
from .errors import (  # noqa: E402
    BilstmCrfNerError, CorpusFormatError, InputError, ModelLoadError, ModelSaveError, NotFittedError, TagSchemeError,
)
from .evaluation import EvaluationReport  # noqa: E402
from .model import BLSTMCRFModel  # noqa: E402

__all__ = [
    "BLSTMCRFModel", "BareEmbedding", "Embedding", "Entity", "EvaluationReport", "read_conll", "write_conll",
    "BilstmCrfNerError", "CorpusFormatError", "InputError", "ModelLoadError", "ModelSaveError", "NotFittedError",
    "TagSchemeError",
]
