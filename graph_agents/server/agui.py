"""graph_agents events as AG-UI events, built with the ``ag-ui-protocol`` package's types.

One `AGUITranslator` per run turns each `graph_agents.events.Event` into zero or more
AG-UI events:

| graph_agents event | AG-UI events |
|---|---|
| (before the run) | ``STATE_SNAPSHOT`` of the thread's shared state |
| ``run.started`` | ``RUN_STARTED`` |
| ``agent.started`` | ``STEP_STARTED`` (step name: the agent); in a delegation or parallel branch, ``SUBAGENT_STARTED`` first |
| ``step.started`` / ``step.completed`` | ``STEP_STARTED`` / ``STEP_FINISHED`` (step name: the workflow step id) |
| ``message.delta`` | ``TEXT_MESSAGE_START`` (first token of a message), ``TEXT_MESSAGE_CONTENT`` |
| ``message.completed`` | ``TEXT_MESSAGE_END`` (or START, CONTENT, END for an unstreamed answer) |
| ``tool.started`` | ``TOOL_CALL_START``, ``TOOL_CALL_ARGS`` (the arguments' JSON), ``TOOL_CALL_END`` |
| ``tool.completed`` | ``SUBAGENT_FINISHED`` for a delegation, then ``TOOL_CALL_RESULT`` |
| ``state.updated`` | ``STATE_DELTA`` (a JSON Patch: ``add`` per changed key, ``remove`` per deleted one) |
| ``handoff``, ``route.decided``, ``memory.recalled``, ``memory.stored`` | ``CUSTOM`` (name ``graph_agents.handoff`` / ``graph_agents.route`` / ``graph_agents.memory.recalled`` / ``graph_agents.memory.stored``, the event's data as value: memory ids, never content) |
| ``agent.completed`` | ``STEP_FINISHED`` |
| ``approval.requested`` | collected: ``RUN_FINISHED`` with an ``interrupt`` outcome, one ``Interrupt`` per request |
| ``run.completed`` | ``STATE_SNAPSHOT`` (the final state), ``RUN_FINISHED`` (``result``: the output) |
| ``run.failed`` | ``RUN_ERROR`` (``code``: the exception's type) |

A delegation (``ask_<agent>``) or a parallel branch is an AG-UI subagent: its events
carry ``subagentRunId`` (the event's lane, e.g. ``ask:call_1``), so a client can tell
concurrent work apart. Composite tool stages are internal and are not sent.

An interrupt's id is the approval request id. A client answers it on the same thread
with a ``resume`` entry: ``{"interruptId": id, "status": "resolved", "payload":
{"approve": true, "feedback": "...", "edits": {...}}}`` (``payload`` may also be a plain
boolean); ``status: "cancelled"`` rejects the call.

The request (``RunAgentInput``): a network runs its last user message; a workflow takes
its inputs from ``forwardedProps.inputs``; ``forwardedProps.userId`` is the run's user
(memory's ``"user"`` scope), on runs and resumes alike.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    Interrupt,
    RunErrorEvent,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunFinishedSuccessOutcome,
    RunStartedEvent,
    StateDeltaEvent,
    StateSnapshotEvent,
    StepFinishedEvent,
    StepStartedEvent,
    SubagentFinishedEvent,
    SubagentFinishedSuccessOutcome,
    SubagentStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)

from ..approval import Approval
from ..events import Event

__all__ = ["RESPONSE_SCHEMA", "AGUITranslator", "decisions_from_resume"]

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {"type": "boolean"},
        "feedback": {"type": "string"},
        "edits": {"type": "object"},
    },
    "required": ["approve"],
}
"""What an interrupt's answer (a resume entry's ``payload``) looks like."""


_REASONS = {"human_approval": "human_approval", "tool": "tool_approval"}
"""An interrupt's ``reason`` by approval request kind (others keep their kind)."""


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


class AGUITranslator:
    """Turns one run's events into AG-UI events; see the module docstring's table."""

    def __init__(self, *, thread_id: str, run_id: str, state: dict[str, Any] | None = None):
        self.thread_id = thread_id
        self.run_id = run_id
        self._state = dict(state or {})
        self._messages: dict[str, str] = {}
        """Lane -> the id of its text message in progress."""
        self._parents: dict[str, str] = {}
        """Lane -> the id of its latest assistant message (the parent of its tool calls)."""
        self._subagents: dict[str, str] = {}
        """Lane -> the parent lane, for the subagents that are active."""
        self._steps: dict[str, list[str]] = {}
        """Lane -> the step names it has open, in order."""
        self._interrupts: list[Interrupt] = []

    def snapshot(self) -> StateSnapshotEvent:
        """The state the run starts from (send it first)."""
        return StateSnapshotEvent(snapshot=dict(self._state))

    def translate(self, event: Event) -> list[BaseEvent]:
        """The AG-UI events for ``event``."""
        lane = event.lane
        handler = getattr(self, "_" + event.type.replace(".", "_"), None)
        if handler is None:
            return []
        out: list[BaseEvent] = handler(event, lane)
        return out

    # -- scopes ----------------------------------------------------------------------

    def _sub(self, lane: str) -> dict[str, Any]:
        """The ``subagent_run_id`` of events in ``lane`` (its nearest subagent lane)."""
        parts = lane.split("/") if lane else []
        while parts and not parts[-1].startswith(("ask:", "branch:")):
            parts.pop()
        owner = "/".join(parts)
        return {"subagent_run_id": owner} if owner in self._subagents else {}

    def _open_subagent(self, event: Event, lane: str) -> list[BaseEvent]:
        parts = lane.split("/") if lane else []
        out: list[BaseEvent] = []
        for depth in range(1, len(parts) + 1):
            scope = "/".join(parts[:depth])
            if not parts[depth - 1].startswith(("ask:", "branch:")) or scope in self._subagents:
                continue
            parent = "/".join(parts[: depth - 1])
            extra: dict[str, Any] = {}
            parent_sub = self._sub(parent)
            if parent_sub:
                extra["parent_subagent_run_id"] = parent_sub["subagent_run_id"]
            segment = parts[depth - 1]
            if segment.startswith("ask:"):
                extra["parent_tool_call_id"] = segment.removeprefix("ask:")
            self._subagents[scope] = parent
            out.append(
                SubagentStartedEvent(subagent_run_id=scope, name=event.agent or segment, **extra)
            )
        return out

    def _close_subagent(self, scope: str) -> list[BaseEvent]:
        if scope not in self._subagents:
            return []
        out: list[BaseEvent] = []
        for inner in [s for s in self._subagents if s.startswith(scope + "/")]:
            out.extend(self._close_subagent(inner))
        out.extend(self._close_lane(scope))
        del self._subagents[scope]
        out.append(
            SubagentFinishedEvent(subagent_run_id=scope, outcome=SubagentFinishedSuccessOutcome())
        )
        return out

    def _close_lane(self, lane: str) -> list[BaseEvent]:
        out: list[BaseEvent] = []
        sub = self._sub(lane)
        if lane in self._messages:
            out.append(TextMessageEndEvent(message_id=self._messages.pop(lane), **sub))
        for name in reversed(self._steps.pop(lane, [])):
            out.append(StepFinishedEvent(step_name=name, **sub))
        return out

    def _close_all(self) -> list[BaseEvent]:
        out: list[BaseEvent] = []
        for scope in sorted(self._subagents, key=lambda s: -s.count("/")):
            out.extend(self._close_subagent(scope))
        for lane in list({*self._messages, *self._steps}):
            out.extend(self._close_lane(lane))
        return out

    def _step_start(self, lane: str, name: str) -> list[BaseEvent]:
        self._steps.setdefault(lane, []).append(name)
        return [StepStartedEvent(step_name=name, **self._sub(lane))]

    def _step_end(self, lane: str, name: str) -> list[BaseEvent]:
        open_steps = self._steps.get(lane, [])
        if name not in open_steps:
            return []
        open_steps.remove(name)
        return [StepFinishedEvent(step_name=name, **self._sub(lane))]

    # -- handlers --------------------------------------------------------------------

    def _run_started(self, event: Event, lane: str) -> list[BaseEvent]:
        return [RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id)]

    def _agent_started(self, event: Event, lane: str) -> list[BaseEvent]:
        return [*self._open_subagent(event, lane), *self._step_start(lane, str(event.agent))]

    def _agent_completed(self, event: Event, lane: str) -> list[BaseEvent]:
        out = self._step_end(lane, str(event.agent))
        if lane.rsplit("/", 1)[-1].startswith("branch:") and "handoff" not in event.data:
            out.extend(self._close_subagent(lane))
        return out

    def _step_started(self, event: Event, lane: str) -> list[BaseEvent]:
        return self._step_start(lane, str(event.data["step"]))

    def _step_completed(self, event: Event, lane: str) -> list[BaseEvent]:
        return self._step_end(lane, str(event.data["step"]))

    def _message_delta(self, event: Event, lane: str) -> list[BaseEvent]:
        delta = str(event.data.get("delta") or "")
        if not delta:
            return []
        out: list[BaseEvent] = []
        sub = self._sub(lane)
        if lane not in self._messages:
            message_id = f"msg-{uuid.uuid4().hex}"
            self._messages[lane] = message_id
            out.append(
                TextMessageStartEvent(
                    message_id=message_id, role="assistant", name=event.agent, **sub
                )
            )
        out.append(TextMessageContentEvent(message_id=self._messages[lane], delta=delta, **sub))
        return out

    def _message_completed(self, event: Event, lane: str) -> list[BaseEvent]:
        sub = self._sub(lane)
        content = str(event.data.get("content") or "")
        out: list[BaseEvent] = []
        message_id: str
        if lane in self._messages:
            message_id = self._messages.pop(lane)
            out.append(TextMessageEndEvent(message_id=message_id, **sub))
        else:
            message_id = f"msg-{uuid.uuid4().hex}"
            if content:  # an answer that did not stream
                out.append(
                    TextMessageStartEvent(
                        message_id=message_id, role="assistant", name=event.agent, **sub
                    )
                )
                out.append(TextMessageContentEvent(message_id=message_id, delta=content, **sub))
                out.append(TextMessageEndEvent(message_id=message_id, **sub))
        self._parents[lane] = message_id
        return out

    def _tool_started(self, event: Event, lane: str) -> list[BaseEvent]:
        if event.data.get("stage") is not None:
            return []
        call_id = str(event.data["call_id"])
        sub = self._sub(lane)
        parent: dict[str, Any] = (
            {"parent_message_id": self._parents[lane]} if lane in self._parents else {}
        )
        arguments = json.dumps(event.data.get("arguments") or {}, ensure_ascii=False)
        return [
            ToolCallStartEvent(
                tool_call_id=call_id, tool_call_name=str(event.data["tool"]), **parent, **sub
            ),
            ToolCallArgsEvent(tool_call_id=call_id, delta=arguments, **sub),
            ToolCallEndEvent(tool_call_id=call_id, **sub),
        ]

    def _tool_completed(self, event: Event, lane: str) -> list[BaseEvent]:
        if event.data.get("stage") is not None:
            return []
        call_id = str(event.data["call_id"])
        scope = f"{lane}/ask:{call_id}" if lane else f"ask:{call_id}"
        out = self._close_subagent(scope)
        out.append(
            ToolCallResultEvent(
                message_id=f"tool-{uuid.uuid4().hex}",
                tool_call_id=call_id,
                content=str(event.data.get("result") or ""),
                role="tool",
                **self._sub(lane),
            )
        )
        return out

    def _state_updated(self, event: Event, lane: str) -> list[BaseEvent]:
        values = event.data.get("values")
        deleted = event.data.get("deleted")
        patch: list[dict[str, Any]] = []
        for key, value in (values if isinstance(values, dict) else {}).items():
            patch.append({"op": "add", "path": _pointer(key), "value": value})
            self._state[key] = value
        for gone in deleted if isinstance(deleted, list) else []:
            if isinstance(gone, str) and gone in self._state:
                patch.append({"op": "remove", "path": _pointer(gone)})
                del self._state[gone]
        if not patch:
            return []
        return [StateDeltaEvent.model_validate({"delta": patch, **self._sub(lane)})]

    def _handoff(self, event: Event, lane: str) -> list[BaseEvent]:
        return [CustomEvent(name="graph_agents.handoff", value=event.data, **self._sub(lane))]

    def _route_decided(self, event: Event, lane: str) -> list[BaseEvent]:
        return [CustomEvent(name="graph_agents.route", value=event.data, **self._sub(lane))]

    def _memory_recalled(self, event: Event, lane: str) -> list[BaseEvent]:
        return [
            CustomEvent(name="graph_agents.memory.recalled", value=event.data, **self._sub(lane))
        ]

    def _memory_stored(self, event: Event, lane: str) -> list[BaseEvent]:
        return [CustomEvent(name="graph_agents.memory.stored", value=event.data, **self._sub(lane))]

    def _approval_requested(self, event: Event, lane: str) -> list[BaseEvent]:
        data = event.data
        tool_call = str(data.get("tool_call_id") or "") or None
        extra: dict[str, Any] = {"tool_call_id": tool_call} if tool_call else {}
        action = str(data.get("action") or data.get("tool") or "approve the action")
        details = str(data.get("details") or "")
        self._interrupts.append(
            Interrupt(
                id=str(data["id"]),
                reason=_REASONS.get(str(data.get("kind")), str(data.get("kind") or "approval")),
                message=f"{action}: {details}" if details else action,
                response_schema=RESPONSE_SCHEMA,
                **extra,
            )
        )
        return []

    def _run_completed(self, event: Event, lane: str) -> list[BaseEvent]:
        out = self._close_all()
        result = event.result
        state = getattr(result, "state", None)
        if isinstance(state, dict):
            from ..nodes.workflow_steps import to_jsonable

            self._state = to_jsonable(state)
            out.append(StateSnapshotEvent(snapshot=dict(self._state)))
        outcome: Any = (
            RunFinishedInterruptOutcome(interrupts=self._interrupts)
            if self._interrupts
            else RunFinishedSuccessOutcome()
        )
        out.append(
            RunFinishedEvent(
                thread_id=self.thread_id,
                run_id=self.run_id,
                result=event.data.get("output"),
                outcome=outcome,
            )
        )
        return out

    def _run_failed(self, event: Event, lane: str) -> list[BaseEvent]:
        return [
            RunErrorEvent(
                message=str(event.data.get("error") or "the run failed"),
                code=str(event.data.get("error_type") or "") or None,
            )
        ]


def decisions_from_resume(entries: list[Any]) -> dict[str, Approval]:
    """AG-UI ``resume`` entries as `Approval` decisions by request id.

    Raises:
        ValueError: a payload that is neither a boolean nor ``{"approve": bool, ...}``.
    """
    decisions: dict[str, Approval] = {}
    for entry in entries:
        payload = entry.payload
        if entry.status == "cancelled":
            feedback = payload.get("feedback") if isinstance(payload, dict) else None
            decisions[entry.interrupt_id] = Approval(approve=False, feedback=feedback)
            continue
        if isinstance(payload, bool):
            decisions[entry.interrupt_id] = Approval(approve=payload)
        elif isinstance(payload, dict) and isinstance(payload.get("approve"), bool):
            edits = payload.get("edits")
            decisions[entry.interrupt_id] = Approval(
                approve=payload["approve"],
                feedback=payload.get("feedback"),
                edits=edits if isinstance(edits, dict) else None,
            )
        else:
            raise ValueError(
                f"The resume entry for interrupt {entry.interrupt_id!r} has payload "
                f'{payload!r}; send true/false or {{"approve": true, "feedback": "..."}}.'
            )
    return decisions
