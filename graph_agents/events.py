"""Stream events: what a run reports, in order, to ``stream_callback`` and ``stream()``.

Every event carries ``type``, ``data``, ``agent``, ``run_id``, ``thread_id``, a
per-run ``seq`` that increases by one with each event, and a ``timestamp``. Events are
queued as they happen and delivered in order by one consumer, so a slow callback delays
delivery but never loses an event nor blocks the run.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["Event", "EventType", "StreamCallback"]

EventType = Literal[
    "run.started",
    "route.decided",
    "agent.started",
    "message.delta",
    "message.completed",
    "tool.started",
    "tool.completed",
    "state.updated",
    "handoff",
    "approval.requested",
    "agent.completed",
    "run.completed",
    "run.failed",
]

TERMINAL_EVENTS: frozenset[str] = frozenset({"run.completed", "run.failed"})


class Event(BaseModel):
    """One thing that happened during a run."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    type: EventType
    """What happened."""
    data: dict[str, JsonValue] = Field(default_factory=dict)
    """Details, as JSON values; their keys depend on ``type``."""
    agent: str | None = None
    """The agent it concerns, if any."""
    run_id: str
    """The run it belongs to."""
    thread_id: str
    """The thread the run belongs to."""
    seq: int
    """Position in the run's event sequence, from 0."""
    timestamp: float = Field(default_factory=time.time)
    """Seconds since the epoch."""
    result: Any = Field(default=None, exclude=True, repr=False)
    """On ``run.completed`` only: the very `RunResult` or `WorkflowResult` that ``run()``
    returns (``data`` holds its JSON fields). Not part of the event's JSON."""


StreamCallback = Callable[[Event], Awaitable[None] | None]


class _Emitter:
    """Numbers events and delivers them, in order, to a callback and/or a queue."""

    def __init__(
        self,
        *,
        run_id: str,
        thread_id: str,
        callback: StreamCallback | None = None,
        queue: asyncio.Queue[Event] | None = None,
    ):
        self.run_id = run_id
        self.thread_id = thread_id
        self._seq = 0
        self._queue = queue
        self._callback = callback
        self._pending: asyncio.Queue[Event | None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self.callback_error: BaseException | None = None
        if callback is not None:
            self._pending = asyncio.Queue()
            self._consumer = asyncio.create_task(self._deliver(callback))

    @property
    def active(self) -> bool:
        """Whether anyone listens; when not, callers may skip building event data."""
        return self._queue is not None or self._callback is not None

    def emit(
        self,
        type: EventType,
        data: dict[str, Any] | None = None,
        *,
        agent: str | None = None,
        result: Any = None,
    ) -> None:
        """Number an event and queue it for the stream and the callback.

        A no-op when nobody listens.
        """
        if not self.active:
            return
        # Built by graph_agents from JSON-ready values: validating every token's event
        # again would only cost time.
        event = Event.model_construct(
            type=type,
            data=data or {},
            agent=agent,
            run_id=self.run_id,
            thread_id=self.thread_id,
            seq=self._seq,
            timestamp=time.time(),
            result=result,
        )
        self._seq += 1
        if self._queue is not None:
            self._queue.put_nowait(event)
        if self._pending is not None:
            self._pending.put_nowait(event)

    async def _deliver(self, callback: StreamCallback) -> None:
        assert self._pending is not None
        is_async = inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004
        )
        while (event := await self._pending.get()) is not None:
            if self.callback_error is not None:
                continue
            try:
                if is_async:
                    await callback(event)  # type: ignore[misc]
                else:
                    result = await asyncio.to_thread(callback, event)
                    if inspect.isawaitable(result):
                        await result
            except Exception as exc:
                # Delivery stops at the first failure; the run re-raises it when it ends.
                self.callback_error = exc

    async def aclose(self) -> None:
        """Deliver everything queued, then stop the consumer."""
        if self._pending is not None and self._consumer is not None:
            self._pending.put_nowait(None)
            await self._consumer
