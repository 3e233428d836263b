"""The thread methods `Network` and `Workflow` share: state, history, operator fixes,
approval answers, graph drawing and closing.

`RunnerFacade.plan_resume` turns what a caller of ``resume()`` said (``approve=``,
``feedback=``, ``edits=``, ``decisions=``) into the answer LangGraph resumes with; the
checks against what the thread waits for are in `graph_agents._resume_answers`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from ._checks import check_int, check_thread_id
from ._resume_answers import answers, resume_map
from ._secrets import conceal
from ._semconv import OPERATIONS
from .approval import Approval, ApprovalRequest
from .drawing import Diagram, save_graph
from .exceptions import ConfigurationError
from .state import check_storable
from .tools import Tool

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph

    from ._runner import GraphRunner
    from .agent import Agent
    from .checkpoints import StateStoreLike
    from .result import ThreadState
    from .state import NetworkState
    from .tracing import TraceRecord

__all__ = ["RunnerFacade"]


class RunnerFacade(ABC):
    """The thread-state and lifecycle methods `Network` and `Workflow` share."""

    _runner: GraphRunner
    _options: dict[str, Any]
    """The constructor's arguments (`with_state_store` builds a copy from them)."""
    state: NetworkState

    @property
    def graph(self) -> CompiledStateGraph[Any, Any, Any, Any]:
        """The compiled LangGraph graph (without a checkpointer), for inspection and drawing."""
        return self._runner.graph

    @abstractmethod
    def diagram(self) -> Diagram:
        """The shape of this network or workflow (`graph_agents.drawing`)."""

    def draw_mermaid(self) -> str:
        """The graph as Mermaid ``flowchart`` text: agents, the router, handoff and
        delegation edges (a network); steps, parallel branches and conditions (a
        workflow). ``graph.get_graph().draw_mermaid()`` gives LangGraph's raw nodes."""
        return self.diagram().mermaid()

    def draw_ascii(self) -> str:
        """The graph as a box-and-line drawing.

        Raises:
            ConfigurationError: ``grandalf`` is missing (``pip install 'graph-agents[graph]'``).
        """
        return self.diagram().ascii()

    def save_graph(self, path: str | Path) -> Path:
        """Write the graph to ``path`` as its suffix says: ``.mmd``, ``.md``, ``.html``
        (renders offline: Mermaid ships inside the package), ``.dot``, or ``.png`` /
        ``.svg`` (Graphviz's ``dot`` must be installed).

        Raises:
            ConfigurationError: an unknown suffix, or ``dot`` is missing.
        """
        return save_graph(self.diagram(), path)

    def get_traces(
        self, thread_id: str | None = None, *, operation: str | None = "invoke_agent"
    ) -> list[TraceRecord]:
        """The trace records of this network's (or workflow's) runs in this process,
        oldest first: by default one per agent turn (``agent``, ``duration`` in ms,
        ``tokens``, ``status``, ``start``, ``parent``).

        Args:
            thread_id: Only this thread's.
            operation: ``"invoke_agent"`` (turns), ``"chat"`` (model calls),
                ``"execute_tool"``, ``"step"`` (workflow steps), ``"invoke_workflow"``
                (runs), or ``None`` for all of them.

        The records come from an in-process span processor that keeps the latest
        `graph_agents.tracing.MAX_RECORDS` spans; for more, export to an OpenTelemetry
        collector (`graph_agents.tracing.configure_tracing`).

        Raises:
            ConfigurationError: an unknown ``operation``, or a ``thread_id`` that is not
                a non-empty ``str``.
        """
        if operation is not None and operation not in OPERATIONS:
            known = ", ".join(repr(op) for op in OPERATIONS)
            raise ConfigurationError(
                f"get_traces(operation={operation!r}): use {known} or None (every span)."
            )
        if thread_id is not None:
            check_thread_id(thread_id, "get_traces: ")
        return self._runner.tracing.records(thread_id, operation)

    async def get_state(
        self, thread_id: str, *, checkpoint_id: str | None = None
    ) -> ThreadState | None:
        """The thread's latest checkpoint (or the one named), or ``None`` when there is none."""
        return await self._runner.get_state(thread_id, checkpoint_id)

    async def get_state_history(
        self, thread_id: str, *, limit: int | None = None
    ) -> list[ThreadState]:
        """The thread's checkpoints, newest first (time travel): at most ``limit``.

        Pass a checkpoint's id to ``run(..., checkpoint_id=...)`` or ``resume(...,
        checkpoint_id=...)`` to fork the thread from it.
        """
        if limit is not None:
            check_int(limit, "limit", minimum=1, owner="get_state_history: ")
        return await self._runner.get_state_history(thread_id, limit)

    async def update_state(self, thread_id: str, values: Mapping[str, Any]) -> ThreadState:
        """Set shared-state keys of a thread, as an operator's fix: a checkpoint of its own.

        The thread's history keeps the checkpoint before the fix (fork from it to undo
        the fix). A thread that stopped midway keeps the steps it had left:
        ``resume(thread_id)`` runs them with the fixed state.

        Args:
            thread_id: The thread.
            values: State keys and their new values.

        Returns:
            The thread's state after the fix.

        Raises:
            ConfigurationError: the thread does not exist, waits for approvals, is in the
                middle of a step whose parallel work partly finished, or a value cannot
                be stored.
            ConcurrentRunError: the thread has a run in progress.
        """
        if not isinstance(values, Mapping) or not values:
            raise ConfigurationError(
                f"update_state needs a non-empty dict of state keys and values, got {values!r}."
            )
        ops: list[tuple[str, str, Any]] = []
        for key, value in values.items():
            if not isinstance(key, str):
                raise ConfigurationError(f"State keys must be strings, got {key!r}.")
            check_storable(key, "State key")
            check_storable(value, f"State value {key!r}")
            ops.append(("set", key, conceal(value)))
        return await self._runner.update_state(thread_id, {"shared": ops})

    def with_state_store(self, state_store: StateStoreLike) -> Self:
        """The same definition (agents, router or steps, models, seeds) on another state
        store: e.g. a network defined with SQLite, run against PostgreSQL."""
        copy = type(self)(**{**self._options, "state_store": state_store})
        copy.state = self.state
        return copy

    async def list_threads(self, limit: int = 50) -> list[ThreadState]:
        """The latest checkpoint of each thread in the state store, most recently
        updated first (at most ``limit`` threads). It reads the store's checkpoints."""
        check_int(limit, "limit", minimum=1, owner="list_threads: ")
        return await self._runner.list_threads(limit)

    async def aclose(self) -> None:
        """Close the state store connections this event loop opened."""
        await self._runner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _tool_of(self, request: ApprovalRequest) -> Tool | None:
        """The tool a request is about (for checking edits); ``None`` when unknown."""
        return None

    async def plan_resume(
        self,
        thread_id: str,
        *,
        approve: bool | None,
        feedback: str | None,
        edits: Mapping[str, Any] | None,
        decisions: Mapping[str, Approval | bool] | None,
        checkpoint_id: str | None = None,
    ) -> tuple[ThreadState, dict[str, Any] | None]:
        """The thread's state and the resume map (``None``: nothing is answered).

        Raises:
            ConfigurationError: see `Network.resume`.
        """
        state = await self._runner.get_state(thread_id, checkpoint_id)
        if state is None:
            where = f" at checkpoint {checkpoint_id!r}" if checkpoint_id else ""
            raise ConfigurationError(
                f"Thread {thread_id!r} has no checkpoint{where} in this state store; start "
                "it with run(..., thread_id=...)."
            )
        return state, resume_map(
            state, answers(state, approve, feedback, edits, decisions), self._tool_of
        )

    async def prepare_resume(
        self,
        thread_id: str,
        *,
        approve: bool | None,
        feedback: str | None,
        edits: Mapping[str, Any] | None,
        decisions: Mapping[str, Approval | bool] | None,
        checkpoint_id: str | None,
        check: Callable[[ThreadState], None] | None = None,
    ) -> tuple[ThreadState, dict[str, Any] | None]:
        """`plan_resume`, then, when nothing is answered, check there is work to resume.

        Raises:
            ConfigurationError: see `Network.resume`; ``check`` may raise its own.
        """
        current, resume_map = await self.plan_resume(
            thread_id,
            approve=approve,
            feedback=feedback,
            edits=edits,
            decisions=decisions,
            checkpoint_id=checkpoint_id,
        )
        if resume_map:
            return current, resume_map
        if checkpoint_id is None:
            return await self._runner.resumable(thread_id, check=check), None
        if not current.next:
            raise ConfigurationError(
                f"Checkpoint {checkpoint_id!r} of thread {thread_id!r} has nothing left to "
                f"run; to fork from it, start a run there: run(..., thread_id={thread_id!r}, "
                f"checkpoint_id={checkpoint_id!r})."
            )
        return current, None


async def warm_memories(agents: Iterable[Agent]) -> None:
    """`MemoryManager.warmup` for each memory the agents use (a shared one once)."""
    seen: set[int] = set()
    for agent in agents:
        memory = agent.memory
        if memory is not None and id(memory) not in seen:
            seen.add(id(memory))
            await memory.warmup()


def check_run_args(thread_id: str | None, checkpoint_id: str | None, run_id: str | None) -> None:
    """Check ``run()``'s thread, fork and idempotency arguments together.

    Raises:
        ConfigurationError: ``checkpoint_id`` or ``run_id`` without ``thread_id``, a
            ``run_id`` that is not non-empty text, or both ``run_id`` and ``checkpoint_id``.
    """
    if thread_id is not None:
        check_thread_id(thread_id)
    if checkpoint_id is not None and thread_id is None:
        raise ConfigurationError(
            f"run(checkpoint_id={checkpoint_id!r}) needs the thread_id it belongs to."
        )
    if run_id is None:
        return
    if not isinstance(run_id, str) or not run_id.strip():
        raise ConfigurationError(
            f"run_id must be non-empty text (an idempotency key such as a request id), got "
            f"{run_id!r}."
        )
    if thread_id is None:
        raise ConfigurationError(
            f"run(run_id={run_id!r}) needs thread_id=...: a run's id is looked up on its "
            "thread, so a retry must name the same thread."
        )
    if checkpoint_id is not None:
        raise ConfigurationError(
            "run() takes run_id= or checkpoint_id=, not both: a fork is a new run of its own."
        )
