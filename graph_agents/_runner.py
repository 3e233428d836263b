"""What networks and workflows share at run time: one code path from call to result.

`GraphRunner` owns a compiled graph's checkpointer (one per event loop for the async
SQLite and Postgres savers), the tool-call journal beside it, the per-thread run locks,
event delivery, ``stream()`` and thread state. `Network` and `Workflow` only say what goes
in and what comes out. A run starts from ``inputs``, continues a thread (``inputs=None``),
answers pending approvals (``resume_map``), or forks from an earlier checkpoint.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from langgraph.types import Command

from ._checks import check_callback
from ._emitter import Backlog, Emitter
from ._opening import Opened, StoreOpener
from ._spans import RunTracer
from ._threads import ThreadStates, half_done, thread_config
from ._trace_settings import TRACE_KEY, TraceSettings, link_from_traceparent
from .checkpoints import (
    CheckpointPolicy,
    StateStoreLike,
    thread_lock,
)
from .checkpoints.errors import translating
from .checkpoints.lean import counting_writes
from .events import StreamCallback
from .exceptions import ConcurrentRunError, ConfigurationError
from .nodes.approval import requests_from_interrupts
from .nodes.context import CallJournal, MemoryWrites
from .nodes.schema import LEAN_CHANNELS
from .state import InMemoryStateStore

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph, StateGraph

    from .approval import ApprovalRequest
    from .nodes.context import RunContext

__all__ = ["GraphRunner", "Outcome", "run_sync", "thread_config"]

R = TypeVar("R")

RUN_ID_KEY = "graph_agents_run_id"
"""Checkpoint metadata: the id of the run that wrote the checkpoint."""

Finish = Callable[[dict[str, Any], str, str, "list[ApprovalRequest]"], "Outcome"]


@dataclass(frozen=True)
class _Recorded:
    """A run the store already holds: its last values, and whether it ended."""

    values: dict[str, Any]
    interrupts: list[ApprovalRequest]
    finished: bool
    """It completed, failed for good, or waits for approvals: nothing to continue."""


@dataclass(frozen=True)
class Outcome:
    """A finished run: its result and the fields of its ``run.completed`` event."""

    result: Any
    event: dict[str, Any]


class GraphRunner(StoreOpener, ThreadStates):
    """Runs one compiled graph against one state store; see the module docstring."""

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        builder: StateGraph[Any, Any, Any, Any],
        store: StateStoreLike,
        policy: CheckpointPolicy,
        tracing: TraceSettings | None = None,
    ):
        self.name = name
        self.tracing: TraceSettings = tracing if tracing is not None else TraceSettings()
        self.kind = kind
        self.store = store
        self.policy = policy
        self.durability = policy.durability_for(store)
        self._builder = builder
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = builder.compile(name=name)
        self._shared: Opened | None = None
        self._per_loop: dict[asyncio.AbstractEventLoop, Opened] = {}
        self._opening: dict[asyncio.AbstractEventLoop, asyncio.Future[Opened]] = {}
        self._identity = store_identity(store, self)

    async def execute(
        self,
        inputs: dict[str, Any] | None,
        *,
        thread_id: str,
        started: dict[str, Any],
        context: Callable[[Emitter], RunContext],
        recursion_limit: int,
        finish: Finish,
        callback: StreamCallback | None = None,
        sink: Backlog | None = None,
        on_end: Callable[[bool], None] | None = None,
        resume_map: dict[str, Any] | None = None,
        checkpoint_id: str | None = None,
        run_id: str | None = None,
    ) -> Any:
        """Run the graph and build the result.

        ``inputs`` starts a run; ``None`` continues the thread where it stopped, with
        ``resume_map`` (LangGraph interrupt id -> answer) when it waits for approvals.
        ``checkpoint_id`` forks: the run starts from that earlier checkpoint, and the
        thread's later history stays as it was.

        ``run_id`` makes the run idempotent: when the thread already holds a run with
        that id, a finished one's recorded result is returned (nothing runs again), and
        one that stopped midway is continued.

        Raises:
            ConcurrentRunError: the thread has a run in progress, here or in another process.
            ConfigurationError: ``checkpoint_id`` is not a checkpoint of the thread, or
                ``callback`` is not callable.
            StoreError: the state store failed (never the driver's own exception).
        """
        check_callback(callback)
        claim = self._claim(thread_id)
        idempotent = run_id is not None
        run_id = run_id or str(uuid.uuid4())
        failed = True
        emitter = Emitter(run_id=run_id, thread_id=thread_id, callback=callback, sink=sink)
        try:
            with (
                counting_writes() as count,
                translating(
                    self.store, "run", thread_id=thread_id, count=count, idempotent=idempotent
                ),
            ):
                opened = await self._open()
                async with thread_lock(self.store, opened.saver, thread_id):
                    recorded = (
                        await self._recorded(opened, thread_id, run_id) if idempotent else None
                    )
                    if recorded is not None and recorded.finished:
                        final, interrupts = recorded.values, recorded.interrupts
                        emitter.emit(
                            "run.started",
                            {**started, self.kind: self.name, "resumed": False, "replayed": True},
                        )
                    else:
                        if recorded is not None:
                            inputs, resume_map = None, None  # it stopped midway: continue it
                        final, interrupts = await self._invoke(
                            opened,
                            inputs,
                            thread_id=thread_id,
                            run_id=run_id,
                            started=started,
                            context=context,
                            emitter=emitter,
                            recursion_limit=recursion_limit,
                            resume_map=resume_map,
                            checkpoint_id=checkpoint_id,
                        )
            for request in interrupts:
                emitter.emit(
                    "approval.requested",
                    request.to_dict(),
                    agent=request.agent or None,
                    step=request.step,
                )
            outcome = finish(final, thread_id, run_id, interrupts)
            failed = False
            emitter.emit("run.completed", outcome.event, result=outcome.result)
            if emitter.tracer is not None:
                emitter.tracer.end_run(stop_reason=outcome.event.get("stop_reason"), error=None)
            return outcome.result
        except BaseException as exc:
            emitter.emit("run.failed", {"error": str(exc), "error_type": type(exc).__name__})
            tracer = emitter.tracer
            if tracer is None:
                # It failed before its graph started (opening the store, the thread
                # lock, a bad checkpoint id): the run still gets its span, as failed.
                tracer = self.tracing.start(
                    kind=self.kind, name=self.name, thread_id=thread_id, run_id=run_id, link=None
                )
                if tracer is not None:
                    tracer.start_run(inputs is None)
            if tracer is not None:
                tracer.end_run(stop_reason=None, error=exc)
            raise
        finally:
            if on_end is not None:
                on_end(failed)
            self._release(claim)
            await emitter.aclose()

    async def _invoke(
        self,
        opened: Opened,
        inputs: dict[str, Any] | None,
        *,
        thread_id: str,
        run_id: str,
        started: dict[str, Any],
        context: Callable[[Emitter], RunContext],
        emitter: Emitter,
        recursion_limit: int,
        resume_map: dict[str, Any] | None,
        checkpoint_id: str | None,
    ) -> tuple[dict[str, Any], list[ApprovalRequest]]:
        config = thread_config(thread_id, checkpoint_id)
        if checkpoint_id is not None:
            await self._check_checkpoint(opened, thread_id, checkpoint_id)
        fork = {"checkpoint_id": checkpoint_id} if checkpoint_id is not None else {}
        tracer = await self._tracer(opened, thread_id, run_id, resumed=inputs is None)
        emitter.tracer = tracer
        emitter.emit(
            "run.started", {**started, self.kind: self.name, "resumed": inputs is None, **fork}
        )
        calls = CallJournal(opened.journal, thread_id)
        # A run that continues a thread may finish a step an earlier run began.
        calls.used = inputs is None
        writes = MemoryWrites()
        run_context = replace(context(emitter), thread_id=thread_id, calls=calls, memory=writes)
        config["recursion_limit"] = recursion_limit
        config["metadata"] = {RUN_ID_KEY: run_id}
        if tracer is not None and tracer.traceparent is not None:
            config["metadata"][TRACE_KEY] = tracer.traceparent
        graph_input: Any = Command(resume=resume_map) if resume_map else inputs
        try:
            final = await opened.graph.ainvoke(
                graph_input, config, context=run_context, durability=self.durability
            )
        finally:
            await writes.flush()  # memory writes started by the run end with it
        interrupts = requests_from_interrupts(final.pop("__interrupt__", ()), thread_id)
        if not interrupts:
            self._keep_latest(opened, thread_id, final)
            if calls.used and final.get("stop_reason"):
                await calls.clear()
        return final, interrupts

    async def _tracer(
        self, opened: Opened, thread_id: str, run_id: str, *, resumed: bool
    ) -> RunTracer | None:
        """The run's span builder, its span opened (``None``: tracing is off). A resumed
        run links to the span of the run that wrote the thread's latest checkpoint."""
        if not self.tracing.enabled:
            return None
        link = None
        if resumed:
            latest = await opened.saver.aget_tuple(thread_config(thread_id))
            if latest is not None:
                link = link_from_traceparent((latest.metadata or {}).get(TRACE_KEY))
        tracer = self.tracing.start(
            kind=self.kind, name=self.name, thread_id=thread_id, run_id=run_id, link=link
        )
        if tracer is not None:
            tracer.start_run(resumed)
        return tracer

    async def _recorded(self, opened: Opened, thread_id: str, run_id: str) -> _Recorded | None:
        """What the store holds of run ``run_id`` on the thread (``None``: nothing)."""
        found = None
        # Top-level checkpoints only: a parallel branch's carry the run id too.
        top: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        async for item in opened.saver.alist(top, filter={RUN_ID_KEY: run_id}, limit=1):
            found = item
        if found is None:
            return None
        snapshot = await opened.graph.aget_state(found.config)
        interrupts = requests_from_interrupts(
            [i for task in snapshot.tasks for i in task.interrupts], thread_id
        )
        finished = (not snapshot.next and not half_done(snapshot)) or bool(interrupts)
        latest = await opened.saver.aget_tuple(thread_config(thread_id))
        is_latest = latest is not None and latest.config == found.config
        if not finished and not is_latest:
            raise ConfigurationError(
                f"Run {run_id!r} on thread {thread_id!r} stopped midway, and other runs have "
                "gone on on the thread since; it cannot be continued. Start a new run."
            )
        return _Recorded(dict(snapshot.values), interrupts, finished)

    @staticmethod
    def _keep_latest(opened: Opened, thread_id: str, final: dict[str, Any]) -> None:
        # The run's final values are the lean channels' values at its last checkpoint:
        # the next run on the thread need not rebuild them from the store.
        latest = getattr(opened.saver, "latest", None)
        if latest is not None:
            latest.keep(thread_id, {key: final[key] for key in LEAN_CHANNELS if key in final})

    def _release(self, claim: tuple[object, str]) -> None:
        _RUNNING.pop(claim, None)

    def _claim(self, thread_id: str) -> tuple[object, str]:
        claim = (self._identity, thread_id)
        holder = _RUNNING.get(claim)
        if holder is not None:
            where = (
                f"on {self.kind} {self.name!r}"
                if holder is self
                else f"in this process, on {holder.kind} {holder.name!r} (another object "
                "using the same state store)"
            )
            raise ConcurrentRunError(
                f"Thread {thread_id!r} already has a run in progress {where}. Wait for it to "
                "finish, or use another thread_id.",
                thread_id=thread_id,
            )
        _RUNNING[claim] = self
        return claim

    async def _check_checkpoint(self, opened: Opened, thread_id: str, checkpoint_id: str) -> None:
        snapshot = await opened.graph.aget_state(thread_config(thread_id, checkpoint_id))
        if not snapshot.created_at:
            raise ConfigurationError(
                f"Thread {thread_id!r} has no checkpoint {checkpoint_id!r} in this "
                f"{self.kind}'s state store; pick one from get_state_history(thread_id)."
            )


_RUNNING: dict[tuple[object, str], GraphRunner] = {}
"""The threads with a run in progress in this process, by state store, and their runners."""


def store_identity(store: StateStoreLike, runner: GraphRunner) -> object:
    """What identifies ``store``'s threads in this process: two runners that share threads
    share this value. In-memory stores are private to their runner."""
    from .state import PostgresStateStore, SqliteStateStore

    if isinstance(store, SqliteStateStore):
        return ("sqlite", str(Path(store.path).resolve()))
    if isinstance(store, PostgresStateStore):
        return ("postgres", store.dsn)
    if store is None or isinstance(store, InMemoryStateStore):
        return ("memory", id(runner))
    return ("saver", id(store))


def run_sync(owner: str, main: Callable[[], Awaitable[R]]) -> R:
    """Run ``main()`` in a fresh event loop; refuse inside a running one.

    Raises:
        RuntimeError: called inside a running event loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            f"{owner}.run_sync() was called inside a running event loop; "
            f"use `await {owner.lower()}.run(...)` instead."
        )

    async def wrapped() -> R:
        return await main()

    return asyncio.run(wrapped())
