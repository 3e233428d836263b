"""`VectorMemoryStore`: agent memories in a Chroma collection.

graph_agents computes every embedding itself and hands Chroma vectors only, so Chroma's
default embedding function (which downloads an ONNX model at run time) is never
loaded. The collection is created with a registered embedding function,
``graph_agents_vectors``, whose configuration names the embedding model and dimension;
it never embeds anything. Reopening a collection with another model or dimension raises
a `ConfigurationError` naming both.

Clients:

- ephemeral (the default): in this process's memory;
- persistent (``path=``): a directory on disk. **One writer process at a time**: Chroma's
  persistent client is not safe for several processes writing the same path; use a
  ``chroma run`` server for that;
- HTTP (``host=``, ``port=``): a ``chroma run`` server, shared by many processes;
- or your own ``client=`` (any Chroma client).

Chroma's client is synchronous; every call runs in a worker thread, so the event loop
never blocks.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LCEmbeddings

from ..embeddings import resolve_embeddings
from ..exceptions import ConfigurationError, StoreError

__all__ = ["StoredMemory", "VectorMemoryStore", "VectorsOnly", "check_collection_name", "rows"]

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")


def check_collection_name(name: object) -> str:
    """``name`` if Chroma accepts it as a collection name.

    Raises:
        ConfigurationError: it is not 3-512 characters of ``[a-zA-Z0-9._-]`` starting
            and ending with a letter or digit.
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ConfigurationError(
            f"Collection name {name!r} is not valid for Chroma: use 3-512 characters of "
            "letters, digits, '.', '_' or '-', starting and ending with a letter or digit "
            "(no '..'), e.g. 'agent_memory'."
        )
    return name


@register_embedding_function
class VectorsOnly(EmbeddingFunction[Documents]):
    """The embedding function of graph_agents' collections: it records which model and
    dimension the vectors come from, and refuses to embed (graph_agents passes vectors)."""

    def __init__(self, model: str, dimension: int):
        self.model = model
        self.dimension = dimension

    def __call__(self, input: Documents) -> Embeddings:
        raise ConfigurationError(
            f"This collection holds vectors of {self.model!r} computed by graph_agents; "
            "pass embeddings (query_embeddings=...), not texts, or open it with "
            "VectorMemoryStore."
        )

    @staticmethod
    def name() -> str:
        return "graph_agents_vectors"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "dimension": self.dimension}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> VectorsOnly:
        return VectorsOnly(str(config.get("model")), int(config.get("dimension") or 0))

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> list[Any]:
        return ["cosine"]


@dataclass(frozen=True)
class StoredMemory:
    """One row of the collection: id, text, metadata, and its query distance if any."""

    id: str
    text: str
    metadata: dict[str, Any]
    distance: float | None = None


def _model_id(embeddings: LCEmbeddings, requested: object) -> str:
    if isinstance(requested, str):
        return requested
    name = getattr(embeddings, "model", None)
    if isinstance(name, str):
        return name
    return type(embeddings).__name__


class VectorMemoryStore:
    """A Chroma collection of memories; see the module docstring.

    Args:
        collection_name: The collection (validated as Chroma requires).
        path: A directory for a persistent client.
        client: A Chroma client to use instead.
        host: A ``chroma run`` server's host (HTTP client); ``port`` its port (8000).
        port: The server's port.
        embeddings: ``"local"`` (offline MiniLM, shared with the semantic router), an
            embedding-model name served by ``provider``, or a LangChain ``Embeddings``.
        embedding_id: The name recorded for ``embeddings`` in the collection (by default
            the model name); reopening with another one raises.
        provider: The model provider that resolves an embedding-model name
            (`OpenAIModelProvider()` by default).

    Raises:
        ConfigurationError: a bad collection name, or more than one of ``path``,
            ``client`` and ``host``.
    """

    def __init__(
        self,
        collection_name: str = "agent_memory",
        *,
        path: str | None = None,
        client: Any = None,
        host: str | None = None,
        port: int | None = None,
        embeddings: str | LCEmbeddings = "local",
        embedding_id: str | None = None,
        provider: Any = None,
    ):
        self.collection_name: str = check_collection_name(collection_name)
        given = [
            name
            for name, value in (("path", path), ("client", client), ("host", host))
            if value is not None
        ]
        if len(given) > 1:
            raise ConfigurationError(
                f"VectorMemoryStore takes one of path, client and host; got {given}."
            )
        self.path = path
        self.host = host
        self.port = port
        self._client = client
        self._requested = embeddings
        self._embedding_id = embedding_id
        self._provider = provider
        self._embeddings: LCEmbeddings | None = None
        self._collection: Any = None
        self._lock = threading.Lock()

    @property
    def embeddings(self) -> LCEmbeddings:
        """The embedding model (resolved on first use)."""
        if self._embeddings is None:
            self._embeddings = resolve_embeddings(self._requested, self._provider)
        return self._embeddings

    @property
    def location(self) -> str:
        """Where the collection lives, for messages."""
        if self.host is not None:
            return f"Chroma at http://{self.host}:{self.port or 8000}"
        if self.path is not None:
            return f"Chroma at {self.path!r}"
        return "the in-process Chroma" if self._client is None else "the given Chroma client"

    def _make_client(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if self._client is not None:
            return self._client
        if self.host is not None:
            return chromadb.HttpClient(host=self.host, port=self.port or 8000, settings=settings)
        if self.path is not None:
            return chromadb.PersistentClient(path=self.path, settings=settings)
        return chromadb.EphemeralClient(settings=settings)

    def collection(self, dimension: int) -> Any:
        """The Chroma collection, opened (and created) on first use, for vectors of
        ``dimension``.

        Raises:
            ConfigurationError: the collection holds vectors of another model or
                dimension.
            StoreError: Chroma cannot be reached.
        """
        with self._lock:
            if self._collection is not None:
                return self._collection
            model = self._embedding_id or _model_id(self.embeddings, self._requested)
            function = VectorsOnly(model, dimension)
            try:
                client = self._make_client()
                self._client = client
                existing = {
                    c.name if hasattr(c, "name") else str(c) for c in client.list_collections()
                }
                if self.collection_name in existing:
                    collection = client.get_collection(
                        self.collection_name, embedding_function=function
                    )
                    meta = collection.metadata or {}
                    stored = (meta.get("graph_agents_model"), meta.get("graph_agents_dimension"))
                    if stored != (model, dimension):
                        raise ConfigurationError(
                            f"Collection {self.collection_name!r} in {self.location} holds "
                            f"vectors of {stored[0]!r} ({stored[1]} dimensions), but this store "
                            f"embeds with {model!r} ({dimension} dimensions). Open it with the "
                            "same embeddings, or use another collection_name."
                        )
                else:
                    collection = client.get_or_create_collection(
                        self.collection_name,
                        embedding_function=function,
                        configuration={"hnsw": {"space": "cosine"}},
                        metadata={"graph_agents_model": model, "graph_agents_dimension": dimension},
                    )
            except ConfigurationError:
                raise
            except ValueError as exc:  # Chroma's conflict errors
                raise ConfigurationError(
                    f"Collection {self.collection_name!r} in {self.location}: {exc}"
                ) from exc
            except Exception as exc:
                raise StoreError(
                    f"Could not open collection {self.collection_name!r} in {self.location}: "
                    f"{type(exc).__name__}: {exc}. Check that the server or path is reachable.",
                    store=self.location,
                    operation="open the memory collection",
                    retry_safe=True,
                ) from exc
            self._collection = collection
            return collection

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` with the store's embeddings (off the event loop)."""
        model = self.embeddings
        return await model.aembed_documents(list(texts))

    async def call(self, dimension: int, method: str, **kwargs: Any) -> Any:
        """Call ``collection.<method>(**kwargs)`` in a worker thread."""

        def run() -> Any:
            collection = self.collection(dimension)
            return getattr(collection, method)(**kwargs)

        try:
            return await asyncio.to_thread(run)
        except (ConfigurationError, StoreError):
            raise
        except Exception as exc:
            raise StoreError(
                f"Memory collection {self.collection_name!r} in {self.location}: {method} "
                f"failed: {type(exc).__name__}: {exc}",
                store=self.location,
                operation=f"memory {method}",
                retry_safe=method in {"get", "query", "count", "upsert", "delete"},
            ) from exc


def rows(result: Mapping[str, Any], *, nested: bool) -> list[StoredMemory]:
    """Chroma ``get``/``query`` results as `StoredMemory` rows."""
    ids = result.get("ids") or []
    documents = result.get("documents") or []
    metadatas = result.get("metadatas") or []
    distances = result.get("distances") or []
    if nested:
        ids = ids[0] if ids else []
        documents = documents[0] if documents else []
        metadatas = metadatas[0] if metadatas else []
        distances = distances[0] if distances else []
    out = []
    for index, memory_id in enumerate(ids):
        out.append(
            StoredMemory(
                id=memory_id,
                text=documents[index] if index < len(documents) else "",
                metadata=dict(metadatas[index] or {}) if index < len(metadatas) else {},
                distance=float(distances[index]) if index < len(distances) else None,
            )
        )
    return out
