"""The server's runs: each HTTP run keeps its events, so SSE readers can join late and
resume after a dropped connection (``Last-Event-ID``), and answering an approval
continues the same run, whose events go on in the same log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..approval import Approval
from ..events import Event
from ..exceptions import ConfigurationError
from ..network import Network
from ..nodes.workflow_steps import to_jsonable
from ..result import ThreadState
from ..workflow import Workflow

__all__ = ["MAX_EVENTS", "MAX_RUNS", "RunLog", "RunRegistry", "Target", "thread_json"]

logger: logging.Logger = logging.getLogger("graph_agents.server")

MAX_RUNS = 1000
"""Runs the server remembers; the oldest finished ones are forgotten first."""
MAX_EVENTS = 100_000
"""Events one run's log keeps; a run that emits more fails its log (not the run)."""

Status = Literal["running", "interrupted", "completed", "failed"]
Target = Network | Workflow


@dataclass(eq=False)
class RunLog:
    """One run as the server shows it: its events (as JSON text) and its status."""

    id: str
    thread_id: str
    user_id: str | None = None
    """The run's user (memory's ``"user"`` scope); answering its approvals reuses it."""
    events: list[str] = field(default_factory=list)
    status: Status = "running"
    pending: list[dict[str, Any]] = field(default_factory=list)
    """The approval requests it waits for (status ``interrupted``)."""
    result: dict[str, Any] | None = None
    """The ``run.completed`` event's data, once it completed or paused."""
    error: dict[str, Any] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)

    @property
    def finished(self) -> bool:
        """Whether nothing more will be added (it completed or failed)."""
        return self.status in ("completed", "failed")

    async def add(self, event: Event) -> None:
        """Append ``event`` and wake the readers."""
        if len(self.events) >= MAX_EVENTS:
            raise RuntimeError(f"run {self.id} has more than {MAX_EVENTS} events")
        self.events.append(json.dumps(event.model_dump(mode="json"), ensure_ascii=False))
        if event.type == "run.started":
            self.status, self.pending = "running", []
        elif event.type == "approval.requested":
            self.pending.append(dict(event.data))
        elif event.type == "run.completed":
            self.result = dict(event.data)
            self.status = "interrupted" if self.pending else "completed"
        elif event.type == "run.failed":
            self.error = dict(event.data)
            self.status = "failed"
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, after: int) -> tuple[list[str], bool]:
        """The events after index ``after`` (waiting for one), and whether the log ended."""
        async with self._changed:
            while len(self.events) <= after and not self.finished:
                await self._changed.wait()
        return self.events[after:], self.finished

    def summary(self) -> dict[str, Any]:
        """The run as JSON (``GET /runs/{id}``)."""
        return {
            "run_id": self.id,
            "thread_id": self.thread_id,
            "status": self.status,
            "events": len(self.events),
            "pending": self.pending,
            "result": self.result,
            "error": self.error,
        }


class RunRegistry:
    """Starts and continues runs of one network or workflow, and keeps their logs."""

    def __init__(self, target: Target):
        if not isinstance(target, (Network, Workflow)):
            raise ConfigurationError(
                f"The server serves a Network or a Workflow, got {type(target).__name__} "
                f"{target!r}; pass create_network(...) or create_workflow(...)."
            )
        self.target = target
        self._runs: OrderedDict[str, RunLog] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    def get(self, run_id: str) -> RunLog | None:
        """The run ``run_id``, if the server still has it."""
        return self._runs.get(run_id)

    async def start(
        self,
        *,
        query: str | None,
        inputs: Mapping[str, Any] | None,
        thread_id: str | None,
        run_id: str | None,
        user_id: str | None = None,
    ) -> tuple[RunLog, bool]:
        """Start a run (or continue ``thread_id``); returns its log and whether it is new.

        A ``run_id`` the server already has returns that run (idempotent retries).

        Raises:
            ConfigurationError: the request does not fit the target (see the message).
        """
        if run_id is not None and (known := self._runs.get(run_id)) is not None:
            return known, False
        log = RunLog(
            id=run_id or str(uuid.uuid4()),
            thread_id=thread_id or str(uuid.uuid4()),
            user_id=user_id,
        )
        target = self.target
        if isinstance(target, Network):
            if not isinstance(query, str):
                raise ConfigurationError(
                    'This server runs a network: send {"query": "..."} (and optionally '
                    '"thread_id" to continue a thread).'
                )

            def begin(callback: Callable[[Event], Awaitable[None]]) -> Awaitable[Any]:
                assert isinstance(target, Network)
                assert query is not None
                return target.run(
                    query,
                    thread_id=log.thread_id,
                    run_id=log.id,
                    stream_callback=callback,
                    user_id=log.user_id,
                )
        else:
            if query is not None:
                raise ConfigurationError(
                    'This server runs a workflow: send {"inputs": {...}}, not a "query".'
                )

            def begin(callback: Callable[[Event], Awaitable[None]]) -> Awaitable[Any]:
                assert isinstance(target, Workflow)
                return target.run(
                    dict(inputs or {}),
                    thread_id=log.thread_id,
                    run_id=log.id,
                    stream_callback=callback,
                    user_id=log.user_id,
                )

        await self._launch(log, begin)
        self._remember(log)
        return log, True

    async def approve(
        self,
        log: RunLog,
        *,
        approve: bool | None,
        feedback: str | None,
        edits: Mapping[str, Any] | None,
        decisions: Mapping[str, Approval | bool] | None,
    ) -> None:
        """Answer the run's pending approvals; the run goes on in the same log.

        Raises:
            ConfigurationError: the run waits for no approval, or the answer does not
                fit its requests (unknown id, several pending, ...).
        """
        if log.status != "interrupted":
            raise ConfigurationError(
                f"Run {log.id} is {log.status}, not waiting for an approval; nothing to approve."
            )
        target = self.target

        def begin(callback: Callable[[Event], Awaitable[None]]) -> Awaitable[Any]:
            return target.resume(
                log.thread_id,
                approve=approve,
                feedback=feedback,
                edits=edits,
                decisions=decisions,
                stream_callback=callback,
                user_id=log.user_id,
            )

        log.status = "running"
        try:
            await self._launch(log, begin)
        except BaseException:
            log.status = "interrupted"
            raise

    async def _launch(
        self, log: RunLog, begin: Callable[[Callable[[Event], Awaitable[None]]], Awaitable[Any]]
    ) -> None:
        """Run ``begin`` in the background; return once it started, raise if it could not."""
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def callback(event: Event) -> None:
            await log.add(event)
            if not started.done():
                started.set_result(None)

        async def main() -> None:
            try:
                await begin(callback)
            except Exception as exc:
                if not started.done():
                    started.set_exception(exc)
                else:  # reported to readers by its run.failed event
                    logger.warning("Run %s failed: %s", log.id, type(exc).__name__)

        task = asyncio.ensure_future(main())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if started.done():
            started.result()  # the error that stopped it from starting, if any

    def _remember(self, log: RunLog) -> None:
        self._runs[log.id] = log
        while len(self._runs) > MAX_RUNS:
            oldest = next(
                (key for key, item in self._runs.items() if item.finished), next(iter(self._runs))
            )
            del self._runs[oldest]

    async def aclose(self) -> None:
        """Cancel the runs still going (their threads stay resumable)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def thread_json(state: ThreadState, history: list[ThreadState]) -> dict[str, Any]:
    """A thread's latest state and its checkpoints, as JSON (``GET /threads/{id}``)."""

    def one(item: ThreadState) -> dict[str, Any]:
        return {
            "checkpoint_id": item.checkpoint_id,
            "created_at": item.created_at,
            "agent_path": item.agent_path,
            "output": to_jsonable(item.output),
            "stop_reason": item.stop_reason,
            "next": list(item.next),
        }

    return {
        "thread_id": state.thread_id,
        **one(state),
        "state": to_jsonable(state.state),
        "query": state.query,
        "messages": [
            {"type": m.type, "content": to_jsonable(m.content), "name": m.name}
            for m in state.messages
        ],
        "interrupts": [request.to_dict() for request in state.interrupts],
        "history": [one(item) for item in history],
    }
