"""Reading and fixing a thread's checkpoints: state, history, resumability, updates.

`ThreadStates` is the half of `graph_agents._runner.GraphRunner` that works on a
thread's stored state rather than running it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langgraph.errors import InvalidUpdateError

from ._checks import check_thread_id
from .checkpoints import StateStoreLike, thread_lock
from .checkpoints.errors import translating
from .checkpoints.listing import latest_threads
from .exceptions import ConfigurationError, StoreError
from .nodes.compile import thread_state_from_snapshot
from .nodes.graph import OPERATOR_NODE

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.types import StateSnapshot

    from ._opening import Opened
    from .result import ThreadState

__all__ = ["ThreadStates", "half_done", "thread_config"]

logger: logging.Logger = logging.getLogger("graph_agents.threads")


def thread_config(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    """The LangGraph config that addresses ``thread_id`` (at ``checkpoint_id``).

    Raises:
        ConfigurationError: ``thread_id`` is not a non-empty ``str``.
    """
    configurable: dict[str, Any] = {"thread_id": check_thread_id(thread_id)}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def half_done(snapshot: StateSnapshot) -> bool:
    """Whether tasks of ``snapshot``'s step finished (their writes are stored) although
    the checkpoint after the step was not written: LangGraph continues from the writes."""
    return any(task.result is not None for task in snapshot.tasks)


class ThreadStates:
    """Thread state access for a runner; see the module docstring."""

    name: str
    kind: str
    store: StateStoreLike

    if TYPE_CHECKING:  # provided by the runner this is mixed into

        async def _open(self) -> Opened: ...

        def _claim(self, thread_id: str) -> tuple[object, str]: ...

        def _release(self, claim: tuple[object, str]) -> None: ...

    async def get_state(
        self, thread_id: str, checkpoint_id: str | None = None
    ) -> ThreadState | None:
        """The thread's latest checkpoint (or ``checkpoint_id``), or ``None`` when there
        is none."""
        with translating(self.store, "read the thread", thread_id=thread_id):
            opened = await self._open()
            snapshot = await opened.graph.aget_state(thread_config(thread_id, checkpoint_id))
        if not snapshot.created_at:
            return None
        return thread_state_from_snapshot(thread_id, snapshot)

    async def list_threads(self, limit: int) -> list[ThreadState]:
        """The latest checkpoint of the ``limit`` most recently updated threads; a thread
        this graph cannot read (another key or type allowlist) is left out, logged."""
        with translating(self.store, "list the threads"):
            opened = await self._open()
            threads = await latest_threads(opened.saver, limit)
        found = []
        for thread in threads:
            try:
                state = await self.get_state(thread)
            except StoreError as exc:
                logger.warning("Thread %r is left out of the listing: %s", thread, exc)
                continue
            if state is not None:
                found.append(state)
        return found

    async def get_state_history(
        self, thread_id: str, limit: int | None = None
    ) -> list[ThreadState]:
        """The thread's checkpoints, newest first (at most ``limit``)."""
        with translating(self.store, "read the thread's history", thread_id=thread_id):
            opened = await self._open()
            return [
                thread_state_from_snapshot(thread_id, snapshot)
                async for snapshot in opened.graph.aget_state_history(
                    thread_config(thread_id), limit=limit
                )
            ]

    async def resumable(
        self, thread_id: str, *, check: Callable[[ThreadState], None] | None = None
    ) -> ThreadState:
        """The thread's latest state, checked to have steps left to run.

        ``check`` sees the state first, to raise a more precise error of its own.

        Raises:
            ConfigurationError: the thread has no checkpoint, or nothing left to run.
        """
        snapshot = await self.existing(thread_id)
        if check is not None:
            check(snapshot)
        if not snapshot.next:
            if snapshot.stop_reason is None and await self._half_done(thread_id):
                return snapshot
            if snapshot.stop_reason is None:
                raise ConfigurationError(
                    f"Thread {thread_id!r} has nothing left to run: its last run stopped "
                    f"before it finished, at steps this {self.kind} {self.name!r} does not "
                    "have (was its definition changed?). Resume it with the definition that "
                    "started it, or start a new run with run()."
                )
            raise ConfigurationError(
                f"Thread {thread_id!r} has nothing left to run: its last run already ended "
                f"(stop_reason={snapshot.stop_reason!r}). Start a new run on it with "
                f"run(..., thread_id={thread_id!r})."
            )
        return snapshot

    async def _half_done(self, thread_id: str) -> bool:
        """Whether the latest checkpoint's step finished without its successor being
        written (a crash, or a store failure, between the two): its tasks' writes are
        stored, nothing is listed as next, and LangGraph continues from those writes."""
        with translating(self.store, "read the thread", thread_id=thread_id):
            opened = await self._open()
            raw = await opened.graph.aget_state(thread_config(thread_id))
        return half_done(raw)

    async def existing(self, thread_id: str) -> ThreadState:
        """The thread's latest state.

        Raises:
            ConfigurationError: the thread has no checkpoint.
        """
        snapshot = await self.get_state(thread_id)
        if snapshot is None:
            raise ConfigurationError(
                f"Thread {thread_id!r} has no checkpoint in this {self.kind}'s state store; "
                "start it with run(..., thread_id=...)."
            )
        return snapshot

    async def update_state(self, thread_id: str, values: dict[str, Any]) -> ThreadState:
        """Write ``values`` (graph channels) to the thread as a checkpoint of its own.

        A finished thread's update is written as `OPERATOR_NODE`, so nothing is
        scheduled; a thread that stopped midway (it failed, or its process died) is
        updated as the node that ran last, so the same steps stay next.

        Raises:
            ConcurrentRunError: the thread has a run in progress.
            ConfigurationError: the thread does not exist, waits for approvals, or is in
                the middle of a step whose parallel work partly finished.
        """
        claim = self._claim(thread_id)
        try:
            with translating(self.store, "update the thread", thread_id=thread_id):
                updated, current = await self._update(thread_id, values)
        finally:
            self._release(claim)
        if updated.next != current.next:
            raise ConfigurationError(
                f"Updating thread {thread_id!r} changed what runs next ({current.next} -> "
                f"{updated.next}); fork from the checkpoint before it to undo that: "
                f"resume({thread_id!r}, checkpoint_id={current.checkpoint_id!r})."
            )
        return updated

    async def _update(
        self, thread_id: str, values: dict[str, Any]
    ) -> tuple[ThreadState, ThreadState]:
        opened = await self._open()
        async with thread_lock(self.store, opened.saver, thread_id):
            config = thread_config(thread_id)
            snapshot = await opened.graph.aget_state(config)
            current = await self.existing(thread_id)
            if current.interrupts:
                ids = ", ".join(repr(r.id) for r in current.interrupts)
                raise ConfigurationError(
                    f"Thread {thread_id!r} waits for approval ({ids}); answer it first "
                    f"with resume({thread_id!r}, approve=..., feedback=...) (an approval "
                    "may also edit the call's arguments), then update its state."
                )
            finished = sorted({t.name for t in snapshot.tasks if t.result is not None})
            if finished:
                raise ConfigurationError(
                    f"Thread {thread_id!r} stopped in the middle of a step whose "
                    f"parallel work partly finished ({', '.join(finished)}); updating "
                    "its state now would run that work again. Resume it first "
                    f"(resume({thread_id!r})), then update its state."
                )
            as_node = OPERATOR_NODE if not snapshot.next else None
            try:
                await opened.graph.aupdate_state(config, values, as_node=as_node)
            except InvalidUpdateError as exc:
                raise ConfigurationError(
                    f"Cannot update thread {thread_id!r} where it stopped ({exc}); "
                    f"resume it first (resume({thread_id!r})), then update its state."
                ) from exc
            updated = await self.existing(thread_id)
        return updated, current
