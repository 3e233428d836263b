"""Event delivery: numbering, the bounded backlog, and the callback's consumer task.

Nodes call `Emitter.emit`, which never blocks: it numbers the event and appends it to
the run's backlog. One consumer takes events off in order: the stream's reader, or a
task that calls ``stream_callback``. When the backlog holds `MAX_BACKLOG` events the
consumer has fallen that far behind, and the model step waits (`Emitter.room`) before
it emits its next token: memory stays bounded, nothing is dropped, and a consumer that
keeps up never slows the run.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .events import Event, EventType, StreamCallback

if TYPE_CHECKING:
    from ._spans import RunTracer

__all__ = ["MAX_BACKLOG", "Backlog", "Emitter"]

logger: logging.Logger = logging.getLogger("graph_agents.events")

MAX_BACKLOG = 10_000
"""Undelivered events at which the run waits for its consumer before the next token."""


class Backlog:
    """Events emitted and not yet taken, in order; `get` waits for the next one."""

    def __init__(self, limit: int | None = None):
        self.limit: int = limit if limit is not None else MAX_BACKLOG
        self._items: deque[Event | None] = deque()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def put(self, event: Event | None) -> None:
        """Append ``event`` (``None``: no more events)."""
        self._items.append(event)
        self._ready.set()
        if len(self._items) >= self.limit:
            self._room.clear()

    async def get(self) -> Event | None:
        """The next event, waiting for one; ``None`` after the last."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if len(self._items) < self.limit:
            self._room.set()
        return item

    def __len__(self) -> int:
        return len(self._items)

    async def room(self) -> None:
        """Wait until the backlog is below its limit."""
        while len(self._items) >= self.limit:
            self._room.clear()
            await self._room.wait()


class Emitter:
    """Numbers a run's events and hands them to its consumer (a stream or a callback)."""

    def __init__(
        self,
        *,
        run_id: str,
        thread_id: str,
        callback: StreamCallback | None = None,
        sink: Backlog | None = None,
    ):
        self.run_id = run_id
        self.thread_id = thread_id
        self._seq = 0
        self._sink = sink
        self._consumer: asyncio.Task[None] | None = None
        self.tracer: RunTracer | None = None
        """The run's spans, fed with every event (``None``: tracing is off)."""
        self.callback_failures: int = 0
        """How many times ``stream_callback`` raised (the first is logged)."""
        if callback is not None:
            self._sink = Backlog()
            self._consumer = asyncio.create_task(self._deliver(callback, self._sink))

    @property
    def active(self) -> bool:
        """Whether anyone listens; when not, callers may skip building event data."""
        return self._sink is not None

    def emit(
        self,
        type: EventType,
        data: dict[str, Any] | None = None,
        *,
        agent: str | None = None,
        path: Sequence[str] = (),
        step: str | None = None,
        result: Any = None,
    ) -> None:
        """Number an event and queue it for the consumer; a no-op when nobody listens."""
        if self.tracer is not None:
            self.tracer.event(type, data or {}, agent, path, step)
        if self._sink is None:
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
            path=list(path),
            step=step,
            result=result,
        )
        self._seq += 1
        self._sink.put(event)

    async def room(self) -> None:
        """Wait while the consumer is `MAX_BACKLOG` events behind (backpressure)."""
        if self._sink is not None and len(self._sink) >= self._sink.limit:
            await self._sink.room()

    async def _deliver(self, callback: StreamCallback, backlog: Backlog) -> None:
        is_async = inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004
        )
        while (event := await backlog.get()) is not None:
            try:
                if is_async:
                    await callback(event)  # type: ignore[misc]
                else:
                    result = await asyncio.to_thread(callback, event)
                    if inspect.isawaitable(result):
                        await result
            except Exception:
                # Reported once; the run and the delivery of later events go on.
                self.callback_failures += 1
                if self.callback_failures == 1:
                    logger.exception(
                        "stream_callback raised on event %d (%s) of run %s; the run goes on "
                        "and later events are still delivered (further failures of this "
                        "run are not logged)",
                        event.seq,
                        event.type,
                        self.run_id,
                    )

    async def aclose(self) -> None:
        """Tell the consumer no more events come; wait for a callback to take them all."""
        if self._sink is not None:
            self._sink.put(None)
        if self._consumer is not None:
            await self._consumer
