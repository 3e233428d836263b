"""`HashEmbeddings`: deterministic, offline embeddings for tests."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from .stub_server import hash_embedding

__all__ = ["HashEmbeddings"]


class HashEmbeddings(Embeddings):
    """Bag-of-words hash embeddings: texts that share words are close, nothing loads.

    Args:
        dim: The vectors' dimension.
        model: The name recorded for these embeddings (collections remember it).
    """

    def __init__(self, dim: int = 64, model: str = "hash-embeddings"):
        self.dim = dim
        self.model: str = f"{model}-{dim}"
        self.calls: int = 0
        """How many texts were embedded."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts``."""
        self.calls += len(texts)
        return [hash_embedding(text, self.dim) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """`embed_documents` (it is fast: no thread)."""
        return self.embed_documents(texts)
