"""What a caller of ``resume()`` said, checked against what the thread waits for, as the
answer LangGraph resumes with.

``approve=``/``feedback=``/``edits=`` answer the one pending request; ``decisions=``
answer several by id. An unknown request id, an ambiguous single answer, or edits a
tool cannot take fail here, before anything runs (LangGraph itself would silently
ignore an unknown interrupt id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .approval import Approval, ApprovalRequest
from .exceptions import ConfigurationError
from .state import check_storable
from .tools import Tool, ToolArgumentsError

if TYPE_CHECKING:
    from .result import ThreadState

__all__ = ["answers", "resume_map"]


def resume_map(
    state: ThreadState,
    answered: dict[str, Approval] | None,
    tool_of: Callable[[ApprovalRequest], Tool | None],
) -> dict[str, Any] | None:
    """LangGraph's resume map for ``answered`` (from `answers`); ``None`` when nothing is
    answered and nothing waits for an answer.

    Raises:
        ConfigurationError: approvals are pending and none was answered, or an answer's
            edits do not fit its tool (``tool_of`` finds it; ``None``: not checked).
    """
    if answered is None:
        if state.interrupts:
            raise ConfigurationError(
                f"Thread {state.thread_id!r} waits for approval: {_listing(state.interrupts)}. "
                "Answer with resume(thread_id, approve=True | False, feedback=...)"
                + (", or decisions={id: Approval(...)}." if len(state.interrupts) > 1 else ".")
            )
        return None
    found: dict[str, Any] = {}
    for request in state.interrupts:
        answer = answered.get(request.id)
        if answer is None:
            continue
        _check_edits(request, answer, tool_of(request))
        if request.kind == "interrupt":
            found[request.interrupt_id] = answer.to_wire()
        else:
            found.setdefault(request.interrupt_id, {})[request.id] = answer.to_wire()
    return found


def answers(
    state: ThreadState,
    approve: bool | None,
    feedback: str | None,
    edits: Mapping[str, Any] | None,
    decisions: Mapping[str, Approval | bool] | None,
) -> dict[str, Approval] | None:
    """The answers by request id (``None``: nothing is answered).

    Raises:
        ConfigurationError: the arguments contradict each other or the pending requests.
    """
    pending = {request.id: request for request in state.interrupts}
    if decisions is None:
        if approve is None:
            if feedback is not None or edits is not None:
                raise ConfigurationError(
                    "resume(feedback=..., edits=...) needs approve=True or approve=False too."
                )
            return None
        if not isinstance(approve, bool):
            raise ConfigurationError(f"approve must be True or False, got {approve!r}.")
        if not pending:
            raise ConfigurationError(
                f"Thread {state.thread_id!r} does not wait for an approval; call "
                f"resume({state.thread_id!r}) without approve= to continue a stopped run."
            )
        if len(pending) > 1:
            raise ConfigurationError(
                f"Thread {state.thread_id!r} waits for {len(pending)} approvals: "
                f"{_listing(state.interrupts)}. Answer each by id: "
                "resume(thread_id, decisions={id: Approval(approve=..., feedback=...)})."
            )
        return {next(iter(pending)): Approval(approve=approve, feedback=feedback, edits=edits)}
    if approve is not None or feedback is not None or edits is not None:
        raise ConfigurationError(
            "Pass either decisions={id: Approval(...)} or approve=/feedback=/edits=, not both."
        )
    if not isinstance(decisions, Mapping) or not decisions:
        raise ConfigurationError(
            f"decisions must be a non-empty dict of request id -> Approval, got {decisions!r}."
        )
    unknown = sorted(str(key) for key in decisions if key not in pending)
    if unknown:
        waiting = _listing(state.interrupts) if pending else "none"
        raise ConfigurationError(
            f"Thread {state.thread_id!r} has no pending approval request {unknown[0]!r}"
            f"{f' (and {len(unknown) - 1} more)' if len(unknown) > 1 else ''}; pending: "
            f"{waiting}."
        )
    answers: dict[str, Approval] = {}
    for key, value in decisions.items():
        if isinstance(value, bool):
            value = Approval(approve=value)
        if not isinstance(value, Approval):
            raise ConfigurationError(
                f"decisions[{key!r}] must be an Approval (or True/False), got {value!r}."
            )
        if value.feedback is not None and not isinstance(value.feedback, str):
            raise ConfigurationError(f"decisions[{key!r}].feedback must be text.")
        answers[key] = value
    return answers


def _listing(requests: list[ApprovalRequest]) -> str:
    return ", ".join(f"{r.id!r} ({r.agent or 'graph'}: {r.action})" for r in requests)


def _check_edits(request: ApprovalRequest, answer: Approval, tool: Tool | None) -> None:
    if not answer.edits:
        return
    if request.kind != "tool" or not answer.approve:
        what = "a rejection" if not answer.approve else f"a {request.kind} request"
        raise ConfigurationError(
            f"Approval request {request.id!r}: edits apply to an approved tool call, not "
            f"to {what}; drop edits=... or approve the call."
        )
    if not isinstance(answer.edits, Mapping) or not all(isinstance(k, str) for k in answer.edits):
        raise ConfigurationError(
            f"Approval request {request.id!r}: edits must map argument names to values, "
            f"got {answer.edits!r}."
        )
    check_storable(dict(answer.edits), "edits")
    if tool is None:
        return
    known = set(tool.parameters.get("properties", {}))
    unknown = sorted(set(answer.edits) - known)
    if unknown:
        raise ConfigurationError(
            f"Approval request {request.id!r}: tool {tool.name!r} has no argument(s) "
            f"{unknown!r}; its arguments are {sorted(known)!r}."
        )
    try:
        tool.parse_arguments({**request.arguments, **answer.edits})
    except ToolArgumentsError as exc:
        raise ConfigurationError(
            f"Approval request {request.id!r}: the edited arguments do not fit tool "
            f"{tool.name!r}: {exc}"
        ) from exc
