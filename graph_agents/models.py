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
from ._checks import check_number
from .exceptions import ConfigurationError, ModelProviderError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.messages import BaseMessage
    from langchain_core.outputs import ChatResult

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_ENV",
    "HanzoModelProvider",
    "ModelProvider",
    "OpenAIModelProvider",
    "RetryPolicy",
    "UnconfiguredModel",
    "describe_model",
    "model_probe",
    "resolve_model",
    "stream_chat",
]


DEFAULT_MODEL = "gpt-4o-mini"
"""The model name used when nothing else names one (the last step of `resolve_model`)."""

MODEL_ENV = "GRAPH_AGENTS_MODEL"
"""The environment variable that names the default model (one step before `DEFAULT_MODEL`)."""


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
    default_model: str | None = None
    """The model of agents that name none when the network or workflow has no
    ``default_model`` either; see `resolve_model` for the whole order."""

    def __post_init__(self) -> None:
        check_number(self.timeout, "timeout", above=0, owner=f"{type(self).__name__}: ")

    def chat_model(self, name: str) -> BaseChatModel:
        """Return a streaming ``ChatOpenAI`` for ``name``.

        With no endpoint configured at all (no API key, no base URL), the returned model
        raises `ModelProviderError` when called, saying what to set: building a network
        never needs credentials, running one does.
        """
        from langchain_openai import ChatOpenAI

        credentials = self._credentials(name)
        if isinstance(credentials, ModelProviderError):
            return UnconfiguredModel(model_name=name, error=str(credentials))
        api_key, base_url = credentials
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
            ModelProviderError: no endpoint is configured (no API key, no base URL).
        """
        from langchain_openai import OpenAIEmbeddings

        credentials = self._credentials(name)
        if isinstance(credentials, ModelProviderError):
            raise credentials
        api_key, base_url = credentials
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

    def _credentials(self, name: str) -> tuple[str, str | None] | ModelProviderError:
        api_key = self.api_key or os.environ.get("OPENAI_API_KEY")
        base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or None
        if not api_key:
            if base_url is None:
                return ModelProviderError(
                    f"No endpoint is configured for model {name!r}: no API key for "
                    f"{OPENAI_DEFAULT_BASE_URL}. Set OPENAI_API_KEY (and OPENAI_BASE_URL for "
                    "another OpenAI-compatible server), or pass "
                    "create_network(model_provider=OpenAIModelProvider(api_key=..., "
                    "base_url=...)) or a BaseChatModel as Agent(model=...).",
                    model=name,
                    endpoint=OPENAI_DEFAULT_BASE_URL,
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
        default_model: str | None = None,
    ):
        super().__init__(
            api_key=api_key or "not-needed",
            base_url=base_url,
            timeout=timeout,
            streaming=streaming,
            default_model=default_model,
        )


class UnconfiguredModel(BaseChatModel):
    """A named model whose endpoint is not configured: every call raises its error.

    `OpenAIModelProvider.chat_model` returns it when there is neither an API key nor a
    base URL, so that building a network works anywhere and running one fails with one
    `ModelProviderError` that says what to set.
    """

    model_name: str
    """The model name that was asked for."""
    error: str
    """The message of the `ModelProviderError` every call raises."""

    @property
    def _llm_type(self) -> str:
        return "graph-agents-unconfigured"

    def bind_tools(self, tools: Any, **kwargs: Any) -> UnconfiguredModel:
        """Binding tools changes nothing: the call fails either way."""
        return self

    def _raise(self) -> ModelProviderError:
        return ModelProviderError(
            self.error, model=self.model_name, endpoint=OPENAI_DEFAULT_BASE_URL
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise self._raise()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        raise self._raise()


def resolve_model(
    model: str | BaseChatModel | None,
    *,
    default: str | BaseChatModel | None,
    provider: ModelProvider | None,
    owner: str,
) -> BaseChatModel:
    """Resolve an agent's model to a chat model.

    The first of these that is set wins: the agent's ``model``; the network's or
    workflow's ``default_model`` (``default``); the provider's ``default_model`` (any
    provider may define that attribute); the `MODEL_ENV` environment variable
    (``GRAPH_AGENTS_MODEL``); then `DEFAULT_MODEL` (``"gpt-4o-mini"``). Names are resolved
    by ``provider`` (`OpenAIModelProvider()` when ``None``), so building never needs
    credentials; a call to an endpoint that is not configured raises `ModelProviderError`.

    Raises:
        ConfigurationError: the chosen value is neither a name nor a ``BaseChatModel``.
    """
    chosen: object = model if model is not None else default
    if chosen is None:
        chosen = getattr(provider, "default_model", None)
    if chosen is None:
        chosen = os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    if isinstance(chosen, BaseChatModel):
        return chosen
    if isinstance(chosen, str) and chosen.strip():
        return (provider or OpenAIModelProvider()).chat_model(chosen)
    raise ConfigurationError(
        f"Agent {owner!r}: model {chosen!r} is neither a model name nor a LangChain "
        "BaseChatModel. Pass a name such as 'gpt-4o-mini' or a chat model object."
    )
