"""`ScriptedModel`: a chat model that replays a script, for tests and offline demos."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

__all__ = ["ModelCall", "ScriptExhaustedError", "ScriptedModel", "ScriptedResponse", "ToolCall"]


@dataclass(frozen=True)
class ToolCall:
    """A tool call the scripted model makes.

    ``arguments`` may be a dict, or a raw string to simulate malformed JSON.
    """

    name: str
    """The tool to call."""
    arguments: dict[str, Any] | str = field(default_factory=dict)
    """The arguments: a dict, or the raw (possibly invalid) JSON text."""
    id: str | None = None
    """The call id; generated when ``None``."""


@dataclass(frozen=True, kw_only=True)
class ScriptedResponse:
    """One scripted model reply."""

    text: str = ""
    """The answer text, streamed word by word."""
    tool_calls: Sequence[ToolCall] = ()
    """Tool calls the reply makes."""
    delay: float = 0.0
    """Seconds to wait before replying (to simulate a slow model)."""
    token_delay: float = 0.0
    """Seconds between streamed tokens (to watch them arrive in a UI)."""
    error: BaseException | None = None
    """Raise this instead of replying."""
    usage: tuple[int, int] | None = None
    """``(input_tokens, output_tokens)``; estimated from word counts when ``None``."""


ScriptItem = str | ToolCall | ScriptedResponse | BaseException
Responder = Callable[[list[BaseMessage]], ScriptItem]


class ScriptExhaustedError(AssertionError):
    """The model was called more times than its script has replies."""


@dataclass(frozen=True)
class ModelCall:
    """One recorded call: the prompt, the tools bound, and when it started and ended."""

    messages: list[BaseMessage]
    tools: list[dict[str, Any]]
    started: float
    ended: float


class ScriptedModel(BaseChatModel):
    """A ``BaseChatModel`` that replays scripted replies and records every call.

    Each call takes the next item of ``script``: a string (an answer), a `ToolCall`, a
    `ScriptedResponse`, or an exception to raise. With ``responder``, each call asks the
    function for its reply instead, given the prompt. Replies stream word by word, so
    token streaming is exercised exactly as with a real model.

    Example:
        ```python
        model = ScriptedModel(script=[ToolCall("search", {"q": "llamas"}), "Llamas hum."])
        ```
    """

    script: list[Any] = Field(default_factory=list)
    """The replies, in order."""
    responder: Any = None
    """``(messages) -> reply``, used instead of the script when set."""
    model_name: str = "scripted"
    """The name reported in spans, events and errors."""

    _position: int = PrivateAttr(default=0)
    _calls: list[ModelCall] = PrivateAttr(default_factory=list)

    def __init__(
        self,
        script: Sequence[ScriptItem] = (),
        *,
        responder: Responder | None = None,
        model_name: str = "scripted",
        **kwargs: Any,
    ):
        fields: dict[str, Any] = {
            "script": list(script),
            "responder": responder,
            "model_name": model_name,
        }
        super().__init__(**fields, **kwargs)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[ModelCall]:
        """Every call made so far, in start order."""
        return self._calls

    @property
    def remaining(self) -> int:
        """Script items not yet replayed."""
        return len(self.script) - self._position

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        """Record the tools with each call, as a real model would receive them."""
        schemas = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=schemas, **kwargs)

    def _next(self, messages: list[BaseMessage]) -> ScriptedResponse:
        if self.responder is not None:
            item = self.responder(messages)
        else:
            if self._position >= len(self.script):
                raise ScriptExhaustedError(
                    f"ScriptedModel {self.model_name!r} was called {self._position + 1} times "
                    f"but its script has {len(self.script)} replies. Last prompt: "
                    f"{messages[-1].content!r}"
                )
            item = self.script[self._position]
            self._position += 1
        if isinstance(item, ScriptedResponse):
            return item
        if isinstance(item, str):
            return ScriptedResponse(text=item)
        if isinstance(item, ToolCall):
            return ScriptedResponse(tool_calls=[item])
        if isinstance(item, BaseException):
            return ScriptedResponse(error=item)
        raise TypeError(f"Unsupported script item {item!r}")

    def _chunks(self, reply: ScriptedResponse, messages: list[BaseMessage]) -> list[AIMessageChunk]:
        # Ids must be unique across processes: add_messages replaces a message with the same id.
        message_id = f"scripted-{uuid.uuid4().hex}"
        words = reply.text.split(" ") if reply.text else []
        chunks = [
            AIMessageChunk(content=word if i == 0 else f" {word}", id=message_id)
            for i, word in enumerate(words)
        ]
        for index, call in enumerate(reply.tool_calls):
            args = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
            chunks.append(
                AIMessageChunk(
                    content="",
                    id=message_id,
                    tool_call_chunks=[
                        tool_call_chunk(
                            name=call.name,
                            args=args,
                            id=call.id or f"call_{uuid.uuid4().hex[:24]}",
                            index=index,
                        )
                    ],
                )
            )
        prompt_words = sum(len(str(m.content).split()) for m in messages)
        input_tokens, output_tokens = reply.usage or (prompt_words, max(len(words), 1))
        chunks.append(
            AIMessageChunk(
                content="",
                id=message_id,
                usage_metadata={
                    "input_tokens": input_tokens,
                    "output_tokens": output_tokens,
                    "total_tokens": input_tokens + output_tokens,
                },
                response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
                chunk_position="last",
            )
        )
        return chunks

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        started = time.perf_counter()
        reply = self._next(messages)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        try:
            if reply.error is not None:
                raise reply.error
            for index, chunk in enumerate(self._chunks(reply, messages)):
                if index and reply.token_delay:
                    await asyncio.sleep(reply.token_delay)
                if run_manager is not None and isinstance(chunk.content, str) and chunk.content:
                    await run_manager.on_llm_new_token(chunk.content, chunk=None)
                yield ChatGenerationChunk(message=chunk)
        finally:
            self._calls.append(
                ModelCall(
                    list(messages), list(kwargs.get("tools", [])), started, time.perf_counter()
                )
            )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        started = time.perf_counter()
        reply = self._next(messages)
        if reply.delay:
            time.sleep(reply.delay)
        try:
            if reply.error is not None:
                raise reply.error
            for index, chunk in enumerate(self._chunks(reply, messages)):
                if index and reply.token_delay:
                    time.sleep(reply.token_delay)
                yield ChatGenerationChunk(message=chunk)
        finally:
            self._calls.append(
                ModelCall(
                    list(messages), list(kwargs.get("tools", [])), started, time.perf_counter()
                )
            )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return _to_result(list(self._stream(messages, stop, run_manager, **kwargs)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return _to_result([g async for g in self._astream(messages, stop, run_manager, **kwargs)])


def _to_result(generations: list[ChatGenerationChunk]) -> ChatResult:
    merged = generations[0].message
    for generation in generations[1:]:
        merged = merged + generation.message
    assert isinstance(merged, AIMessageChunk)
    message = AIMessage(
        content=merged.content,
        tool_calls=merged.tool_calls,
        invalid_tool_calls=merged.invalid_tool_calls,
        usage_metadata=merged.usage_metadata,
        response_metadata=merged.response_metadata,
        id=merged.id,
    )
    return ChatResult(generations=[ChatGeneration(message=message)])
