"""Human approval: what a paused run asks for, and what a human answers.

A run pauses when an agent calls `graph_agents.tools.human_approval_tool`, or a tool
whose ``requires_approval`` holds for the call. The run returns
``stop_reason="interrupted"`` with one `ApprovalRequest` per pending call in
``result.interrupts``; ``network.resume(thread_id, approve=..., feedback=...)`` (or
``decisions={request.id: Approval(...)}`` when several are pending) continues it, in
this process or any other that opens the same durable store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Approval", "ApprovalRequest"]


@dataclass(frozen=True, kw_only=True)
class Approval:
    """A human's answer to one `ApprovalRequest`."""

    approve: bool = True
    """Run the call (``True``), or reject it (``False``): the model is told it was rejected."""
    feedback: str | None = None
    """Text for the model: why it was rejected, or what to keep in mind."""
    edits: Mapping[str, Any] | None = None
    """Arguments to change before the tool runs (approved ``requires_approval`` tools
    only); the model is told which were changed."""

    def to_wire(self) -> dict[str, Any]:
        """The JSON form the paused tool step receives."""
        return {
            "approve": self.approve,
            "feedback": self.feedback,
            "edits": dict(self.edits) if self.edits else None,
        }


@dataclass(frozen=True, kw_only=True)
class ApprovalRequest:
    """One call waiting for a human's approval.

    ``id`` is stable: the same request keeps its id across resumes and processes, so it
    can be answered later with ``resume(thread_id, decisions={id: Approval(...)})``.
    """

    id: str
    """Answer the request by this id."""
    kind: Literal["human_approval", "tool", "interrupt"]
    """``"human_approval"``: the agent called `human_approval_tool`; ``"tool"``: a tool
    with ``requires_approval`` is about to run; ``"interrupt"``: code of the user's
    called LangGraph's ``interrupt()`` (``details`` holds its value; the resume value is
    the `Approval`'s JSON form)."""
    agent: str
    """The agent whose model made the call."""
    action: str
    """What is to be approved: the agent's words, or the tool's name."""
    details: Any
    """The agent's details, or the tool call's arguments."""
    tool: str
    """The tool that was called."""
    tool_call_id: str
    """The model's id for the call."""
    arguments: dict[str, Any] = field(default_factory=dict)
    """The arguments the model passed, as it passed them."""
    thread_id: str = ""
    """The thread to resume."""
    step: str | None = None
    """The workflow step the agent ran in, for workflows."""
    interrupt_id: str = ""
    """The LangGraph interrupt that carries the request."""

    def to_dict(self) -> dict[str, Any]:
        """The request as JSON-ready data (in ``approval.requested`` events)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "agent": self.agent,
            "action": self.action,
            "details": self.details,
            "tool": self.tool,
            "tool_call_id": self.tool_call_id,
            "arguments": self.arguments,
            "thread_id": self.thread_id,
            "step": self.step,
            "interrupt_id": self.interrupt_id,
        }
