"""Stream events: what a run reports, in order, to ``stream_callback`` and ``stream()``.

Every event carries ``type``, ``data``, ``agent``, ``run_id``, ``thread_id``, a
per-run ``seq`` that increases by one with each event (gap-free, from 0), a
``timestamp``, and a ``path`` that says where in the run it happened:

- ``[]``: the run itself (a network's routed agents, one after another);
- ``["ask:<call id>"]``: inside the delegation the model made with tool call ``<call id>``;
  a delegation's delegation adds a second segment;
- ``["branch:<agent>"]``: the parallel branch of ``<agent>`` when a router picked several;
- ``["step:<step id>"]``: inside a workflow step (``step`` holds the id too).

Two events with different paths come from different lanes of work, which may run
concurrently: concatenating the ``message.delta`` tokens of one path gives that lane's
answer. Every ``data`` value is JSON; `event_json_schema` exports the schema of the
events with each type's ``data`` fields, as the table in the README lists them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["EVENT_TYPES", "Event", "EventType", "StreamCallback", "event_json_schema"]

EventType = Literal[
    "run.started",
    "route.decided",
    "agent.started",
    "message.delta",
    "message.completed",
    "tool.started",
    "tool.completed",
    "state.updated",
    "memory.recalled",
    "memory.stored",
    "handoff",
    "approval.requested",
    "step.started",
    "step.completed",
    "agent.completed",
    "run.completed",
    "run.failed",
]

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
"""Every event type, in the order a run can first produce them."""

TERMINAL_EVENTS: frozenset[str] = frozenset({"run.completed", "run.failed"})


class Event(BaseModel):
    """One thing that happened during a run."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    type: EventType
    """What happened."""
    data: dict[str, JsonValue] = Field(default_factory=dict)
    """Details, as JSON values; their keys depend on ``type`` (see `event_json_schema`)."""
    agent: str | None = None
    """The agent it concerns, if any."""
    run_id: str
    """The run it belongs to."""
    thread_id: str
    """The thread the run belongs to."""
    seq: int
    """Position in the run's event sequence: 0, 1, 2, ... without gaps."""
    timestamp: float = Field(default_factory=time.time)
    """Seconds since the epoch."""
    path: list[str] = Field(default_factory=list)
    """Where in the run it happened: ``[]`` for the run itself, else segments such as
    ``"ask:<call id>"``, ``"branch:<agent>"`` and ``"step:<step id>"`` (module docstring)."""
    step: str | None = None
    """The workflow step it happened in, if any."""
    result: Any = Field(default=None, exclude=True, repr=False)
    """On ``run.completed`` only: the very `RunResult` or `WorkflowResult` that ``run()``
    returns (``data`` holds its JSON fields). Not part of the event's JSON."""

    @property
    def lane(self) -> str:
        """``path`` as one string (``"/"``-joined; ``""`` for the run itself): a key for
        the lane of work, e.g. one column per parallel branch in a UI."""
        return "/".join(self.path)


StreamCallback = Callable[[Event], Awaitable[None] | None]
"""Receives every event of a run, in order; sync or async."""


class _Data(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow")


class _RunStarted(_Data):
    resumed: bool = Field(description="The run continues a thread where it stopped.")
    query: str | None = Field(None, description="A network run's request.")
    network: str | None = Field(None, description="The network's name.")
    workflow: str | None = Field(None, description="The workflow's name.")
    replayed: bool | None = Field(None, description="A finished run_id: nothing runs again.")
    checkpoint_id: str | None = Field(None, description="The checkpoint a fork starts from.")


class _RouteDecided(_Data):
    agent: str | list[str] | None = Field(description="The agent(s) chosen; null ends the run.")
    scores: dict[str, float]
    reason: str
    router: str
    low_confidence: bool
    fell_back: bool
    turn: int
    finished: bool


class _AgentStarted(_Data):
    model: str


class _MessageDelta(_Data):
    delta: str = Field(description="One token (or chunk) of the model's streamed answer.")


class _ToolCallRef(BaseModel):
    name: str
    args: dict[str, JsonValue]
    id: str | None


class _MessageCompleted(_Data):
    content: str
    tool_calls: list[_ToolCallRef]


class _ToolStarted(_Data):
    tool: str
    call_id: str
    arguments: JsonValue
    stage: int | None = Field(None, description="A composite tool's stage index, from 0.")
    composite: str | None = Field(None, description="The composite tool the stage is part of.")
    parent_call_id: str | None = Field(None, description="A stage's composite tool call.")


class _ToolCompleted(_Data):
    tool: str
    call_id: str
    result: str
    error: bool
    duration_ms: float
    stage: int | None = None
    composite: str | None = None
    parent_call_id: str | None = None


class _StateUpdated(_Data):
    keys: list[str] = Field(description="The shared-state keys the step changed.")
    values: dict[str, JsonValue] = Field(description="Their new values (secrets masked).")
    deleted: list[str] = Field(description="The keys it deleted.")


class _MemoryRecalled(_Data):
    ids: list[str] = Field(description="The memories put into the agent's context, best first.")
    count: int
    scope: str


class _MemoryStored(_Data):
    ids: list[str]
    kind: str


class _Handoff(_Data):
    from_: str = Field(alias="from")
    to: str


class _ApprovalRequested(_Data):
    id: str
    kind: Literal["human_approval", "tool", "interrupt"]
    agent: str
    action: str
    details: str
    tool: str
    tool_call_id: str
    arguments: dict[str, JsonValue]
    thread_id: str
    step: str | None
    interrupt_id: str


StepKind = Literal["agent", "transform", "parallel", "conditional", "loop"]


class _StepStarted(_Data):
    step: str
    kind: StepKind
    agent: str | None = None


class _StepCompleted(_Data):
    step: str
    kind: StepKind
    output: JsonValue = Field(None, description="Agent and transform steps: the output.")
    branch: Literal["then", "else"] | None = Field(
        None, description="The branch a conditional took."
    )
    iterations: int | None = Field(None, description="How many times a loop ran its body.")


class _AgentCompleted(_Data):
    output: str
    handoff: str | None = None
    stop_reason: str | None = None


class _RunCompleted(_Data):
    output: JsonValue
    stop_reason: str | None
    usage: dict[str, int]
    interrupts: list[str] = Field(description="Pending approval request ids.")
    agent_path: list[str] | None = Field(None, description="A network run's agents.")
    iterations: int | None = None
    path: list[str] | None = Field(None, description="A workflow run's steps.")


class _RunFailed(_Data):
    error: str
    error_type: str


_DATA: dict[str, type[_Data]] = {
    "run.started": _RunStarted,
    "route.decided": _RouteDecided,
    "agent.started": _AgentStarted,
    "message.delta": _MessageDelta,
    "message.completed": _MessageCompleted,
    "tool.started": _ToolStarted,
    "tool.completed": _ToolCompleted,
    "state.updated": _StateUpdated,
    "memory.recalled": _MemoryRecalled,
    "memory.stored": _MemoryStored,
    "handoff": _Handoff,
    "approval.requested": _ApprovalRequested,
    "step.started": _StepStarted,
    "step.completed": _StepCompleted,
    "agent.completed": _AgentCompleted,
    "run.completed": _RunCompleted,
    "run.failed": _RunFailed,
}


def event_json_schema() -> dict[str, Any]:
    """The JSON Schema of an event as JSON (``event.model_dump(mode="json")``, or a
    web view's SSE ``data``): a ``oneOf`` with one branch per ``type``, each giving that
    type's ``data`` fields. Unknown ``data`` keys are allowed, so consumers stay valid
    when a later release adds some."""
    base = Event.model_json_schema()
    base["properties"].pop("data", None)
    base["properties"].pop("type", None)
    base["properties"].pop("result", None)  # not part of the JSON
    defs: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for name in EVENT_TYPES:
        data_schema = _DATA[name].model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(data_schema.pop("$defs", {}))
        data_schema["title"] = f"{name} data"
        branches.append(
            {
                "type": "object",
                "title": name,
                "properties": {
                    "type": {"const": name},
                    "data": data_schema,
                    **base["properties"],
                },
                "required": ["type", "data", "run_id", "thread_id", "seq"],
            }
        )
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "graph_agents event",
        "oneOf": branches,
    }
    if defs:
        schema["$defs"] = defs
    return schema
