"""`RunStream`: a run's events as they happen, then its result.

``network.stream(...)`` and ``workflow.stream(...)`` return one. Use it as an async
context manager, so leaving the block (a ``break``, an exception) cancels the run at
once and cleanly::

    async with network.stream("Plan a trip") as stream:
        async for event in stream:
            if event.type == "message.delta":
                print(event.data["delta"], end="")
    print(stream.result.output)        # the same RunResult network.run() returns

A bare ``async for event in network.stream(...)`` works too; breaking out of it cancels
the run when Python closes the iterator (right away in CPython). A cancelled run
keeps every completed step checkpointed: ``resume(thread_id)`` continues it.

The stream's consumer is the backpressure point: the run never waits for a reader that
keeps up, and waits before its next token once `graph_agents._emitter.MAX_BACKLOG`
events are unread, so memory stays bounded and no event is ever dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Generic, TypeVar

from ._emitter import Backlog
from .events import Event

__all__ = ["RunStream"]

R = TypeVar("R")


class RunStream(Generic[R]):
    """The events of one run, in order, and then its result (`result`)."""

    def __init__(self, start: Callable[[Backlog], Awaitable[R]]):
        self._start = start
        self._backlog = Backlog()
        self._task: asyncio.Task[R] | None = None
        self._iterated = False

    def _begin(self) -> asyncio.Task[R]:
        if self._task is None:
            backlog = self._backlog

            async def run() -> R:
                try:
                    return await self._start(backlog)
                finally:
                    backlog.put(None)  # the end, however the run ended

            self._task = asyncio.ensure_future(run())
        return self._task

    async def __aenter__(self) -> RunStream[R]:
        self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._iterated:
            raise RuntimeError("A RunStream can be iterated once; start another run.")
        self._iterated = True
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        task = self._begin()
        try:
            while (event := await self._backlog.get()) is not None:
                yield event
            await task  # the run's exception, when it failed
        finally:
            if not task.done():
                await self.aclose()

    @property
    def done(self) -> bool:
        """Whether the run has ended (completed, failed or cancelled)."""
        return self._task is not None and self._task.done()

    @property
    def result(self) -> R:
        """What ``run()`` returns for this run: a `RunResult` or a `WorkflowResult`.

        Raises:
            RuntimeError: the run has not ended yet: read the events to the end first.
            Exception: the run's own exception, when it failed.
        """
        task = self._task
        if task is None or not task.done():
            raise RuntimeError(
                "The run has not finished: iterate the stream to its end (the "
                "run.completed event) before reading stream.result."
            )
        if task.cancelled():
            raise RuntimeError("The run was cancelled (the stream was closed early).")
        return task.result()

    async def aclose(self) -> None:
        """Cancel the run if it is still going, and wait until it has stopped."""
        task = self._task
        if task is None:
            return
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif not task.cancelled():
            task.exception()  # retrieved: `result` (or the iteration) raises it
