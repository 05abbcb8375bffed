"""Token embeddings: how tokens become ids and ids become vectors."""

from .bare import BareEmbedding
from .base import Embedding, embedding_from_config
from .bert import BERTEmbedding
from .transformer import TransformerEmbedding

__all__ = ["BareEmbedding", "BERTEmbedding", "Embedding", "TransformerEmbedding", "embedding_from_config"]
