"""Opening a runner's state store: one checkpointer (and tool-call journal) per event
loop for the async SQLite and Postgres savers, one shared by every loop for in-memory
ones, and one opening however many runs start together.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._once import fail
from .checkpoints import (
    CheckpointPolicy,
    StateStoreLike,
    ToolJournal,
    is_shareable_across_loops,
    open_checkpointer,
    open_journal,
)

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph, StateGraph

__all__ = ["Opened", "StoreOpener"]


@dataclass
class Opened:
    """A runner's graph compiled against one opened checkpointer, and its journal."""

    graph: CompiledStateGraph[Any, Any, Any, Any]
    saver: Any
    journal: ToolJournal
    closer: asyncio.Task[None] | None = None
    """Closes the store connections when cancelled: by ``aclose()``, or by the event loop
    itself when it shuts down (``asyncio.run`` cancels every task before it closes)."""


class StoreOpener:
    """The half of `graph_agents._runner.GraphRunner` that opens and closes its store."""

    name: str
    store: StateStoreLike
    policy: CheckpointPolicy
    _builder: StateGraph[Any, Any, Any, Any]
    _shared: Opened | None
    _per_loop: dict[asyncio.AbstractEventLoop, Opened]
    _opening: dict[asyncio.AbstractEventLoop, asyncio.Future[Opened]]

    async def aclose(self) -> None:
        """Close the state store connections this event loop opened."""
        opened = self._per_loop.pop(asyncio.get_running_loop(), None)
        if opened is not None and opened.closer is not None:
            opened.closer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await opened.closer

    async def _open(self) -> Opened:
        if is_shareable_across_loops(self.store):
            if self._shared is None:
                async with open_checkpointer(self.store, self.policy) as saver:
                    graph = self._builder.compile(checkpointer=saver, name=self.name)
                    journal = await open_journal(self.store, saver)
                    self._shared = Opened(graph=graph, saver=saver, journal=journal)
            return self._shared
        loop = asyncio.get_running_loop()
        opened = self._per_loop.get(loop)
        if opened is not None:
            return opened
        # Runs that start together wait for one opening instead of each opening a pool.
        opening = self._opening.get(loop)
        if opening is None:
            opening = self._opening[loop] = loop.create_future()
            try:
                opened = await self._open_in(loop)
            except BaseException as exc:
                del self._opening[loop]
                fail(opening, exc)
                raise
            del self._opening[loop]
            opening.set_result(opened)
            return opened
        return await asyncio.shield(opening)

    async def _open_in(self, loop: asyncio.AbstractEventLoop) -> Opened:
        opened = self._per_loop.get(loop)
        if opened is None:
            stack = contextlib.AsyncExitStack()
            try:
                saver = await stack.enter_async_context(open_checkpointer(self.store, self.policy))
                journal = await open_journal(self.store, saver)
            except BaseException:
                await stack.aclose()
                raise
            graph = self._builder.compile(checkpointer=saver, name=self.name)
            opened = Opened(graph=graph, saver=saver, journal=journal)
            # A script that never calls aclose() still closes its connections cleanly:
            # the loop cancels this task at shutdown, before it closes itself, and the
            # task closes them then (otherwise the loop would finalise the open async
            # generators after the fact, and print tracebacks).
            opened.closer = loop.create_task(self._close_when_cancelled(loop, opened, stack))
            self._per_loop[loop] = opened
            # Let the closer reach its wait: a task cancelled before its first step never
            # runs its ``finally``, so an aclose() right after opening would close nothing.
            await asyncio.sleep(0)
        return opened

    async def _close_when_cancelled(
        self, loop: asyncio.AbstractEventLoop, opened: Opened, stack: contextlib.AsyncExitStack
    ) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            if self._per_loop.get(loop) is opened:
                del self._per_loop[loop]
            await stack.aclose()
