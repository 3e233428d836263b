"""`RunContext`: the per-run objects nodes receive through LangGraph's runtime context."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .._emitter import Emitter
from ..checkpoints.journal import ToolJournal
from ..events import EventType
from ..routers.base import Router

__all__ = ["CallJournal", "MemoryWrites", "RunContext", "TurnTracker"]

logger: logging.Logger = logging.getLogger("graph_agents.memory")


class CallJournal:
    """The run's view of the tool-call journal: its thread, and whether it wrote to it."""

    def __init__(self, journal: ToolJournal, thread_id: str):
        self._journal = journal
        self.thread_id = thread_id
        self.used: bool = False
        """Whether this run wrote a record, so the thread's records need clearing."""

    async def begin(self, key: str) -> int:
        """Count a start of the call's body; the count, this one included."""
        self.used = True
        return await self._journal.begin(self.thread_id, key)

    async def finished(self, keys: Sequence[str]) -> dict[str, Any]:
        """The recorded results among ``keys``."""
        return await self._journal.finished(self.thread_id, keys)

    async def record(self, key: str, outcome: Any) -> None:
        """Record a finished call's result."""
        self.used = True
        await self._journal.record(self.thread_id, key, outcome)

    async def clear(self) -> None:
        """Forget the thread's records."""
        await self._journal.clear(self.thread_id)


class TurnTracker:
    """Tells the router when the turns it dispatched end, so in-flight counts stay true.

    Turns still open when a run ends are released by `release_open`.
    """

    def __init__(self, router: Router):
        self._router = router
        self._open: Counter[str] = Counter()

    def dispatch(self, agent: str) -> None:
        """Count a turn of ``agent`` as started, and tell the router."""
        self._open[agent] += 1
        self._router.dispatched(agent)

    def finish(self, agent: str) -> None:
        """Count a turn of ``agent`` as ended (if one is open), and tell the router."""
        if self._open[agent] > 0:
            self._open[agent] -= 1
            self._router.released(agent, failed=False)

    def release_open(self, *, failed: bool) -> None:
        """Release every turn still open, e.g. when the run failed mid-turn."""
        for agent, count in list(self._open.items()):
            for _ in range(count):
                self._router.released(agent, failed=failed)
        self._open.clear()


class MemoryWrites:
    """Background memory work of one run (reflections): retried, and all awaited
    (`flush`) before the run returns; a failure is logged, never raised."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self.recalled: dict[tuple[str, str], list[Any]] = {}
        """(agent, request) -> what recall returned, so one turn recalls once."""

    def spawn(self, write: Callable[[], Awaitable[None]], what: str) -> None:
        """Run ``write()`` in the background (three attempts)."""

        async def attempt() -> None:
            for tries in range(3):
                try:
                    await write()
                    return
                except Exception:
                    if tries == 2:
                        logger.error("Memory write (%s) failed 3 times", what, exc_info=True)
                        raise
                    await asyncio.sleep(0.2 * (tries + 1))

        self._tasks.append(asyncio.ensure_future(attempt()))

    async def flush(self) -> None:
        """Wait for every write; a failed one is logged, never raised."""
        while self._tasks:
            tasks, self._tasks = self._tasks, []
            await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(frozen=True)
class RunContext:
    """What one run hands to every node; never checkpointed."""

    emitter: Emitter
    """Where the run's events go."""
    max_iterations: int
    """The most agent turns this scope may take (a delegation gets what is left)."""
    depth: int = 0
    """0 for the run itself; 1 inside a delegation, 2 inside a delegation's delegation."""
    max_depth: int = 3
    """The deepest delegation allowed."""
    turns: TurnTracker | None = field(default=None)
    """Reports turn ends to the router; ``None`` without a router."""
    thread_id: str = ""
    """The run's thread."""
    calls: CallJournal | None = None
    """The tool-call journal (attempts and finished calls inside a step)."""
    step: str | None = None
    """The workflow step the agent runs in, inside a workflow."""
    path: tuple[str, ...] = ()
    """Where in the run this scope is (`graph_agents.events.Event.path`)."""
    user_id: str | None = None
    """The user the run is for (memory's ``"user"`` scope)."""
    owner: str | None = None
    """The network's or workflow's name (memory's ``"network"`` scope)."""
    memory: MemoryWrites | None = None
    """The run's memory writes, awaited before the run returns."""

    def emit(
        self, type: EventType, data: dict[str, Any] | None = None, *, agent: str | None = None
    ) -> None:
        """Emit an event of this scope (its path and step)."""
        self.emitter.emit(type, data, agent=agent, path=self.path, step=self.step)

    def within(self, segment: str, **changes: Any) -> RunContext:
        """This context one level deeper: ``segment`` added to the path."""
        return replace(self, path=(*self.path, segment), **changes)
