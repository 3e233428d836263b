"""Calling a model: streamed, retried, and failing with errors that say what to fix.

`stream_chat` is the one way graph_agents calls a model: it streams tokens, retries
transient failures (HTTP 429 and 5xx, timeouts, dropped connections) with exponential
backoff, and turns failures that retrying cannot fix into `ModelProviderError`s naming the
endpoint and the model. `model_probe` is the cheap call health checks make.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import openai
from langchain_core import exceptions as lc_errors
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import invalid_tool_call, tool_call

from ._checks import check_int, check_number
from .exceptions import ModelProviderError

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

__all__ = [
    "OPENAI_DEFAULT_BASE_URL",
    "DeltaCallback",
    "RetryPolicy",
    "describe_model",
    "model_probe",
    "stream_chat",
]

logger = logging.getLogger("graph_agents.models")

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


def describe_model(model: BaseChatModel) -> tuple[str, str | None]:
    """Return ``(model name, endpoint URL or None)`` for errors, spans and events."""
    from langchain_openai import ChatOpenAI

    if isinstance(model, ChatOpenAI):
        endpoint = (
            model.openai_api_base or os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL
        )
        return model.model_name, endpoint
    for attr in ("model_name", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str):
            return value, None
    return type(model).__name__, None


def provider_of(model: BaseChatModel) -> str:
    """The ``gen_ai.provider.name`` of ``model``: ``"openai"`` for OpenAI-compatible
    clients, else the LangChain model's type (``"scripted"`` for `ScriptedModel`)."""
    from langchain_openai import ChatOpenAI

    if isinstance(model, ChatOpenAI):
        return "openai"
    try:
        return str(model._llm_type)
    except Exception:  # a model without a type name
        return type(model).__name__


def model_probe(model: BaseChatModel) -> Callable[[], Awaitable[None]] | None:
    """A cheap call that raises `ModelProviderError` when ``model``'s endpoint is down.

    For OpenAI-compatible models it lists the endpoint's models; other models have no
    probe (``None``), and only their failures tell their health.
    """
    from langchain_openai import ChatOpenAI

    if not isinstance(model, ChatOpenAI):
        return None
    client = model.root_async_client

    async def probe() -> None:
        try:
            await client.models.list()
        except Exception as exc:
            raise _translate(model, exc, attempts=1) from exc

    return probe


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How transient model failures are retried: exponential backoff with full jitter."""

    max_attempts: int = 4
    """Attempts in all, the first included."""
    initial_delay: float = 0.5
    """Seconds before the first retry."""
    max_delay: float = 8.0
    """The longest wait between attempts."""
    backoff: float = 2.0
    """The factor the wait grows by after each attempt."""

    def __post_init__(self) -> None:
        owner = "RetryPolicy: "
        check_int(self.max_attempts, "max_attempts", minimum=1, owner=owner)
        check_number(self.initial_delay, "initial_delay", minimum=0, owner=owner)
        check_number(self.max_delay, "max_delay", minimum=self.initial_delay, owner=owner)
        check_number(self.backoff, "backoff", minimum=1, owner=owner)

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.initial_delay * self.backoff ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


DeltaCallback = Callable[[str], Awaitable[None]]


async def stream_chat(
    model: BaseChatModel | Runnable[Any, Any],
    messages: Sequence[BaseMessage],
    *,
    base_model: BaseChatModel,
    on_delta: DeltaCallback | None = None,
    retry: RetryPolicy = RetryPolicy(),
) -> AIMessage:
    """Stream one model call and return the complete message.

    Args:
        model: The model to call, possibly with tools bound.
        messages: The prompt.
        base_model: The unbound model, named in errors.
        on_delta: Awaited with each text token as it arrives.
        retry: The retry policy for transient failures.

    Raises:
        ModelProviderError: authentication failed, the model is unknown, the endpoint is
            unreachable, or transient failures outlasted the retry policy.
    """
    attempt = 0
    while True:
        attempt += 1
        streamed_text = False
        try:
            merged: AIMessageChunk | None = None
            async for chunk in model.astream(list(messages)):
                if not isinstance(chunk, AIMessageChunk):
                    if isinstance(chunk, AIMessage):
                        # A model with streaming disabled answers in one message.
                        if chunk.text and on_delta is not None:
                            await on_delta(chunk.text)
                        return chunk
                    continue
                merged = chunk if merged is None else merged + chunk
                text = chunk.text
                if text and on_delta is not None:
                    streamed_text = True
                    await on_delta(text)
            if merged is None:
                raise _model_error(base_model, "returned an empty stream", hint=None)
            return _to_message(merged)
        except ModelProviderError:
            raise
        except Exception as exc:
            # Tokens already shown to the user cannot be taken back, so a stream that
            # broke after its first token is not replayed.
            if _is_transient(exc) and attempt < retry.max_attempts and not streamed_text:
                wait = retry.delay(attempt)
                logger.warning(
                    "Model call failed (%s); retry %d of %d in %.2fs",
                    type(exc).__name__,
                    attempt,
                    retry.max_attempts - 1,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            raise _translate(base_model, exc, attempts=attempt) from exc


def _to_message(chunk: AIMessageChunk) -> AIMessage:
    tool_calls = list(chunk.tool_calls)
    invalid = list(chunk.invalid_tool_calls)
    if chunk.tool_call_chunks:
        # LangChain parses streamed arguments leniently (a truncated '{"q": "ll' becomes
        # {"q": "ll"}); a tool must never run on arguments the model did not finish, so
        # the raw text is parsed strictly here.
        tool_calls, invalid = [], list(chunk.invalid_tool_calls)
        for raw in chunk.tool_call_chunks:
            text = raw.get("args") or "{}"
            try:
                args = json.loads(text)
                if not isinstance(args, dict):
                    raise ValueError("arguments are not a JSON object")
            except ValueError as exc:
                invalid.append(
                    invalid_tool_call(
                        name=raw.get("name"), args=text, id=raw.get("id"), error=str(exc)
                    )
                )
            else:
                tool_calls.append(
                    tool_call(name=raw.get("name") or "", args=args, id=raw.get("id"))
                )
    return AIMessage(
        content=chunk.content,
        additional_kwargs=chunk.additional_kwargs,
        response_metadata=chunk.response_metadata,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=chunk.usage_metadata,
        id=chunk.id,
    )


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APIConnectionError, openai.RateLimitError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code >= 500 or exc.status_code in (408, 409)
    # langchain-core's provider-neutral classes cover the other chat model integrations.
    return isinstance(
        exc,
        (
            TimeoutError,
            ConnectionError,
            lc_errors.ModelRateLimitError,
            lc_errors.ModelAPIError,
            lc_errors.ModelConnectionError,
            lc_errors.ModelTimeoutError,
        ),
    )


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return exc.message


def _translate(model: BaseChatModel, exc: BaseException, *, attempts: int) -> ModelProviderError:
    retried = f" after {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, openai.AuthenticationError):
        return _model_error(
            model,
            f"rejected the credentials (HTTP {exc.status_code})",
            hint="Check OPENAI_API_KEY or the provider's api_key.",
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return _model_error(
            model,
            f"denied access (HTTP {exc.status_code})",
            hint="Check that the API key may use this model.",
        )
    if isinstance(exc, openai.NotFoundError):
        return _model_error(
            model,
            "does not know this model (HTTP 404)",
            hint="Check the model name, and that base_url ends with the API prefix (often /v1).",
        )
    if isinstance(exc, openai.APITimeoutError):
        return _model_error(
            model, f"timed out{retried}", hint="Raise the provider's timeout or retry later."
        )
    if isinstance(exc, openai.APIConnectionError):
        return _model_error(
            model,
            f"is unreachable{retried} ({exc.__cause__ or exc})",
            hint="Check OPENAI_BASE_URL / base_url and that the server is running.",
        )
    if isinstance(exc, openai.APIStatusError):
        return _model_error(
            model, f"failed with HTTP {exc.status_code}{retried}: {_detail(exc)}", hint=None
        )
    return _model_error(model, f"failed{retried}: {type(exc).__name__}: {exc}", hint=None)


def _model_error(model: BaseChatModel, what: str, *, hint: str | None) -> ModelProviderError:
    name, endpoint = describe_model(model)
    where = f" at {endpoint}" if endpoint else ""
    message = f"Model {name!r}{where} {what}."
    if hint:
        message = f"{message} {hint}"
    return ModelProviderError(message, model=name, endpoint=endpoint)
