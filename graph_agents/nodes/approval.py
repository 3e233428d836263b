"""The approval gate of the tool step: pause for a human before any tool body runs.

LangGraph resumes an interrupted node from its top, so the gate sits at the top of the
tool step, before any tool runs; the code before it only reads state. The gate asks
every call of the model message that needs approval at once, with one ``interrupt()``
per round: a resume that answers some of them returns them and the gate asks again for
the rest. No tool of the step runs until every request of the step is answered.

The interrupt's value is ``{APPROVAL_KEY: [request, ...]}``; its resume value maps
request ids to `graph_agents.approval.Approval.to_wire` dicts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from langchain_core.messages import InvalidToolCall, ToolCall
from langgraph.types import Interrupt, interrupt

from ..approval import ApprovalRequest
from ..tools import render_tool_result

if TYPE_CHECKING:
    from .agent import CompiledAgent

__all__ = [
    "APPROVAL_KEY",
    "await_decisions",
    "call_key",
    "decided_content",
    "pending_requests",
    "requests_from_interrupts",
]

APPROVAL_KEY = "graph_agents.approval"


def call_key(thread_id: str, task_id: str, call_id: str, index: int) -> str:
    """The stable identity of one tool call of one step: the same on every resume of
    the step, different for every other call, thread and fork."""
    raw = f"{thread_id}\x00{task_id}\x00{call_id}\x00{index}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def pending_requests(
    spec: CompiledAgent,
    calls: list[ToolCall | InvalidToolCall],
    *,
    task_id: str,
    thread_id: str,
    step: str | None,
) -> dict[int, dict[str, Any]]:
    """The approval requests of the step's calls, by call index."""
    requests: dict[int, dict[str, Any]] = {}
    for index, call in enumerate(calls):
        if call.get("type") == "invalid_tool_call":
            continue
        tool = spec.tools.get(call.get("name") or "")
        args = call.get("args")
        if tool is None or not isinstance(args, dict) or not tool.needs_approval(args):
            continue
        call_id = call.get("id") or ""
        human = tool.kind == "approval"
        requests[index] = {
            "id": "apr_" + call_key(thread_id, task_id, call_id, index)[:20],
            "kind": "human_approval" if human else "tool",
            "agent": spec.agent.name,
            "action": str(args.get("action", "")) if human else tool.name,
            "details": args.get("details", "") if human else args,
            "tool": tool.name,
            "tool_call_id": call_id,
            "arguments": args,
            "step": step,
        }
    return requests


def await_decisions(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every request's decision, pausing the run (``interrupt``) until all are answered."""
    decisions: dict[str, dict[str, Any]] = {}
    ids = {request["id"] for request in requests}
    while missing := [r for r in requests if r["id"] not in decisions]:
        answer = interrupt({APPROVAL_KEY: missing})
        if isinstance(answer, dict):
            decisions.update(
                (key, value)
                for key, value in answer.items()
                if key in ids and isinstance(value, dict)
            )
    return decisions


def decided_content(request: dict[str, Any], decision: dict[str, Any], result: str | None) -> str:
    """What the model reads for a decided call: the rejection, or the result with the
    human's approval notes (``result`` is ``None`` for a rejected or human-approval call)."""
    feedback = decision.get("feedback")
    said = f" Their feedback: {str(feedback).rstrip('. ')}." if feedback else ""
    if request["kind"] == "human_approval":
        verdict = "approved" if decision.get("approve") else "rejected"
        advice = " Go ahead." if decision.get("approve") else " Do not do it."
        return f"A human {verdict} {request['action']!r}.{said}{advice}"
    if not decision.get("approve"):
        return (
            f"A human rejected this call to {request['tool']!r}, so it did not run.{said} "
            "Do not retry it unchanged."
        )
    notes: list[str] = []
    edits = decision.get("edits")
    if edits:
        changed = ", ".join(
            f"{key}: {json.dumps(request['arguments'].get(key), default=str)} -> "
            f"{json.dumps(value, default=str)}"
            for key, value in edits.items()
        )
        notes.append(f"A human approved this call with changed arguments ({changed}).")
    if feedback:
        notes.append(said.strip())
    body = render_tool_result(result) if result is not None else ""
    return "\n".join([*notes, body]) if notes else body


def requests_from_interrupts(
    interrupts: Iterable[Interrupt], thread_id: str
) -> list[ApprovalRequest]:
    """The pending `ApprovalRequest`s behind LangGraph interrupts, in order.

    An interrupt raised by something else (a LangChain tool calling ``interrupt()``
    itself) becomes one request of kind ``"interrupt"`` whose id is the interrupt's.
    """
    requests: list[ApprovalRequest] = []
    for item in interrupts:
        value = item.value
        if isinstance(value, dict) and APPROVAL_KEY in value:
            requests.extend(
                ApprovalRequest(**request, thread_id=thread_id, interrupt_id=item.id)
                for request in value[APPROVAL_KEY]
            )
        else:
            requests.append(
                ApprovalRequest(
                    id=item.id,
                    kind="interrupt",
                    agent="",
                    action="interrupt",
                    details=value,
                    tool="",
                    tool_call_id="",
                    thread_id=thread_id,
                    interrupt_id=item.id,
                )
            )
    return requests
