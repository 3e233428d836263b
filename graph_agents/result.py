"""`RunResult`: what a network run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

__all__ = ["RunResult", "StopReason"]

StopReason = Literal["completed", "max_iterations", "max_tool_rounds", "interrupted"]
"""Why a run stopped. ``max_tool_rounds``: an agent spent its tool-round budget in one turn."""


@dataclass(kw_only=True)
class RunResult:
    """The outcome of one run of a network."""

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
    parsed: Any = None
    """The final answer parsed into the answering agent's ``output_type``, if it has one."""
    tool_errors: list[dict[str, Any]] = field(default_factory=list)
    """Tool failures this run returned to the model: agent, tool, call_id and error."""
    interrupts: list[dict[str, Any]] = field(default_factory=list)
    """Pending approval requests when ``stop_reason == "interrupted"``."""
