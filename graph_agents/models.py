"""Model providers, model resolution, and the streaming, retrying model call.

A model is either a name, which the network's `ModelProvider` resolves to a LangChain
chat model, or any ``BaseChatModel`` used as is. Both providers here speak the OpenAI
protocol through ``langchain-openai``.

`stream_chat`, `RetryPolicy`, `describe_model` and `model_probe` are defined in
``graph_agents._calls`` (calling a model) and re-exported here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from ._calls import (
    OPENAI_DEFAULT_BASE_URL,
    RetryPolicy,
    describe_model,
    model_probe,
    stream_chat,
)
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    pass

__all__ = [
    "HanzoModelProvider",
    "ModelProvider",
    "OpenAIModelProvider",
    "RetryPolicy",
    "describe_model",
    "model_probe",
    "resolve_model",
    "stream_chat",
]


@runtime_checkable
class ModelProvider(Protocol):
    """Resolves model names to chat models. One method, so any provider is easy to write."""

    def chat_model(self, name: str) -> BaseChatModel:
        """Return the chat model called ``name``."""
        ...


@dataclass(kw_only=True)
class OpenAIModelProvider:
    """Models served by OpenAI or any OpenAI-compatible endpoint.

    ``api_key`` and ``base_url`` default to ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``.
    """

    api_key: str | None = None
    """The API key; ``OPENAI_API_KEY`` when ``None``."""
    base_url: str | None = None
    """The endpoint, e.g. ``http://localhost:4000/v1``; when ``None``, ``OPENAI_BASE_URL``
    or OpenAI's."""
    timeout: float = 60.0
    """Seconds before one request times out (and is retried)."""
    temperature: float | None = None
    """Sampling temperature passed to every model; the endpoint's default when ``None``."""
    streaming: bool = True
    """Stream tokens (SSE); ``False`` makes one plain request per model call."""

    def chat_model(self, name: str) -> BaseChatModel:
        """Return a streaming ``ChatOpenAI`` for ``name``.

        Raises:
            ConfigurationError: no API key is configured.
        """
        from langchain_openai import ChatOpenAI

        api_key, base_url = self._credentials(name)
        kwargs: dict[str, Any] = {}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        return ChatOpenAI(
            model=name,
            api_key=api_key,  # type: ignore[arg-type]
            base_url=base_url,
            timeout=self.timeout,
            # stream_chat owns retries, so they follow one policy for every model.
            max_retries=0,
            streaming=self.streaming,
            disable_streaming=not self.streaming,
            stream_usage=True,
            use_responses_api=False,
            **kwargs,
        )

    def embeddings(self, name: str) -> Embeddings:
        """Return ``OpenAIEmbeddings`` for ``name`` that sends raw text (no ``tiktoken``).

        Raises:
            ConfigurationError: no API key is configured.
        """
        from langchain_openai import OpenAIEmbeddings

        api_key, base_url = self._credentials(name)
        return OpenAIEmbeddings(
            model=name,
            api_key=api_key,  # type: ignore[arg-type]
            base_url=base_url,
            timeout=self.timeout,
            max_retries=3,
            # Token-length checks need tiktoken, which downloads encodings at run time.
            check_embedding_ctx_length=False,
            tiktoken_enabled=False,
        )

    def _credentials(self, name: str) -> tuple[str, str | None]:
        api_key = self.api_key or os.environ.get("OPENAI_API_KEY")
        base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or None
        if not api_key:
            if base_url is None:
                raise ConfigurationError(
                    f"No API key for model {name!r} at {OPENAI_DEFAULT_BASE_URL}. Set "
                    "OPENAI_API_KEY, or pass OpenAIModelProvider(api_key=..., base_url=...)."
                )
            # Local OpenAI-compatible servers often need no key, but the client wants one.
            api_key = "not-needed"
        return api_key, base_url


class HanzoModelProvider(OpenAIModelProvider):
    """Models behind a Hanzo Router (or any OpenAI-compatible gateway) at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        streaming: bool = True,
    ):
        super().__init__(
            api_key=api_key or "not-needed",
            base_url=base_url,
            timeout=timeout,
            streaming=streaming,
        )


def resolve_model(
    model: str | BaseChatModel | None,
    *,
    default: str | BaseChatModel | None,
    provider: ModelProvider | None,
    owner: str,
) -> BaseChatModel:
    """Resolve an agent's ``model`` (falling back to ``default``) to a chat model.

    Raises:
        ConfigurationError: no model is given, or a name is given with no provider.
    """
    chosen = model if model is not None else default
    if chosen is None:
        raise ConfigurationError(
            f"Agent {owner!r} has no model. Pass Agent(model=...) or "
            "create_network(default_model=...)."
        )
    if isinstance(chosen, BaseChatModel):
        return chosen
    if isinstance(chosen, str):
        return (provider or OpenAIModelProvider()).chat_model(chosen)
    raise ConfigurationError(
        f"Agent {owner!r}: model {chosen!r} is neither a model name nor a LangChain BaseChatModel."
    )
