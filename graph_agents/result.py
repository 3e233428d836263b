"""`RunResult`: what a network run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, cast

from typing_extensions import TypeVar

from ._secrets import reveal_state

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from .agent import Agent
    from .approval import ApprovalRequest

__all__ = [
    "OutputT",
    "RunResult",
    "StopReason",
    "ThreadState",
    "WorkflowResult",
    "completed_event",
    "result_from_values",
]

OutputT = TypeVar("OutputT", default=Any)
"""The type of a run's structured output: an agent's or step's ``output_type``."""

StopReason = Literal["completed", "max_iterations", "max_tool_rounds", "interrupted"]
"""Why a run stopped. ``max_tool_rounds``: an agent spent its tool-round budget in one turn."""


@dataclass(kw_only=True)
class RunResult(Generic[OutputT]):
    """The outcome of one run of a network.

    Generic over the answering agent's ``output_type``: annotate
    ``result: RunResult[Review] = await network.run(...)`` and ``result.parsed`` is a
    ``Review | None``.
    """

    output: str
    """The final answer text (the best output so far when the run stopped early)."""
    messages: list[BaseMessage]
    """The thread's conversation, this run's messages last."""
    state: dict[str, Any]
    """The shared state when the run ended."""
    agent_path: list[str]
    """The agents that took turns, in order."""
    iterations: int
    """The number of agent turns this run took."""
    stop_reason: StopReason
    """Why the run stopped."""
    thread_id: str
    """The thread the run belongs to; pass it to ``run(thread_id=...)`` to continue."""
    run_id: str
    """This run's id, as in its events."""
    usage: dict[str, int] = field(default_factory=dict)
    """Token usage summed over this run's model calls."""
    parsed: OutputT | None = None
    """The final answer parsed into the answering agent's ``output_type``, if it has one."""
    tool_errors: list[dict[str, Any]] = field(default_factory=list)
    """Tool failures this run returned to the model: agent, tool, call_id and error."""
    interrupts: list[ApprovalRequest] = field(default_factory=list)
    """The calls waiting for a human's approval when ``stop_reason == "interrupted"``;
    answer them with ``network.resume(thread_id, approve=...)`` or ``decisions=``."""
    routes: list[dict[str, Any]] = field(default_factory=list)
    """Every routing decision of the run: agent, scores, reason, router, turn."""


@dataclass(kw_only=True)
class WorkflowResult(Generic[OutputT]):
    """The outcome of one workflow run.

    Generic over the last step's output: annotate ``result: WorkflowResult[Review]``
    when the last step is ``Step.agent(..., output_type=Review)``.
    """

    output: OutputT
    """The last step's output (a list for a final parallel step)."""
    outputs: dict[str, Any]
    """Every step's output by ``output_key`` (or step id); parsed objects for ``output_type``."""
    state: dict[str, Any]
    """The shared state when the run ended (inputs, outputs and merged fields included)."""
    path: list[str]
    """The agent and transform steps that ran, in order (loops repeat them)."""
    thread_id: str
    """The thread; pass it to ``resume()`` after a failure."""
    run_id: str
    """This run's id, as in its events."""
    usage: dict[str, int] = field(default_factory=dict)
    """Token usage summed over the run's model calls."""
    stop_reason: Literal["completed", "interrupted"] = "completed"
    """``"interrupted"``: a step waits for a human's approval (see ``interrupts``);
    ``output`` is then the last finished step's."""
    interrupts: list[ApprovalRequest] = field(default_factory=list)
    """The calls waiting for approval; answer them with ``workflow.resume(...)``."""


@dataclass(kw_only=True)
class ThreadState:
    """One checkpoint of a thread, from ``network.get_state()`` or its history."""

    thread_id: str
    """The thread."""
    checkpoint_id: str
    """This checkpoint's id."""
    created_at: str
    """When the checkpoint was written (ISO 8601)."""
    state: dict[str, Any]
    """The shared state."""
    messages: list[BaseMessage]
    """The conversation."""
    agent_path: list[str]
    """The agents of the latest run so far."""
    query: str
    """The latest run's request."""
    output: str
    """The latest answer."""
    stop_reason: str | None
    """Why the latest run stopped: ``"interrupted"`` while approvals are pending; ``None``
    while it has steps left (it failed or died, and ``resume()`` continues it)."""
    route: dict[str, Any] | None
    """The latest routing decision."""
    active_agent: str | None
    """The agent holding the thread: the one a continued run starts with (without a
    router), or the one an unfinished run stopped in."""
    next: list[str]
    """The graph nodes that run next; empty when the run finished."""
    step: int
    """The superstep number of this checkpoint."""
    interrupts: list[ApprovalRequest] = field(default_factory=list)
    """The approval requests the thread waits for."""
    parent_checkpoint_id: str | None = None
    """The checkpoint this one follows (``None`` for a thread's first); a fork's first
    checkpoint follows the checkpoint it was forked from."""


def result_from_values(
    values: dict[str, Any],
    *,
    agents: dict[str, Agent],
    thread_id: str,
    run_id: str,
    interrupts: list[ApprovalRequest] | None = None,
) -> RunResult:
    """Build a `RunResult` from the graph's final values."""
    path = list(values.get("path", []))
    parsed = values.get("parsed")
    if parsed is not None and path:
        output_type = agents[path[-1]].output_type
        if output_type is not None:
            parsed = output_type.model_validate(parsed)
    return RunResult(
        output=values.get("output", ""),
        messages=list(values.get("messages", [])),
        state=reveal_state(values.get("shared")),
        agent_path=path,
        iterations=values.get("turns", 0),
        stop_reason=cast(
            StopReason, "interrupted" if interrupts else values.get("stop_reason") or "completed"
        ),
        thread_id=thread_id,
        run_id=run_id,
        usage=dict(values.get("usage") or {}),
        parsed=parsed,
        tool_errors=list(values.get("tool_errors", [])),
        routes=list(values.get("routes", [])),
        interrupts=list(interrupts or []),
    )


def completed_event(result: RunResult) -> dict[str, Any]:
    """The JSON fields of a network run's ``run.completed`` event."""
    return {
        "output": result.output,
        "agent_path": result.agent_path,
        "stop_reason": result.stop_reason,
        "iterations": result.iterations,
        "usage": result.usage,
        "interrupts": [request.id for request in result.interrupts],
    }
