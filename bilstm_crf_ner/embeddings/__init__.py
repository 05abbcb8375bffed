"""Token embeddings: how tokens become ids and ids become vectors."""

from .bare import BareEmbedding
from .base import Embedding, embedding_from_config

__all__ = ["BareEmbedding", "Embedding", "embedding_from_config"]
