"""The LangGraph state schema every network graph shares, and its reducers.

**Lean checkpoints.** ``messages`` and ``shared`` grow with a thread, and a plain reducer
channel stores its whole value in every checkpoint that changes it, so a thread's
stored bytes grow with the square of its length. Both are LangGraph ``DeltaChannel``s
(beta in LangGraph 1.2): a checkpoint stores only the step's writes, plus a full
snapshot every `SNAPSHOT_FREQUENCY` updates, and loading replays the writes since the
nearest snapshot through a batch reducer. ``messages`` uses LangGraph's experimental
``_messages_delta_reducer``; ``shared`` folds the recorded state operations. Both
reducers are batching-invariant, as ``DeltaChannel`` requires; `tests/test_lean_checkpoints.py`
pins that, and that state, history and forks load exactly on every store.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict, cast

from langchain_core.messages import AnyMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph.message import _messages_delta_reducer

from ..state import StateOp, apply_state_ops

__all__ = [
    "LEAN_CHANNELS",
    "SNAPSHOT_FREQUENCY",
    "GraphState",
    "SharedChannel",
    "add_usage",
    "last_value",
    "merge_dicts",
    "merge_shared",
]

SNAPSHOT_FREQUENCY = 100
"""Updates of a lean channel between two full snapshots of it (LangGraph's default)."""


def merge_shared(current: dict[str, Any] | None, writes: Sequence[list[StateOp]]) -> dict[str, Any]:
    """Batch reducer of the ``shared`` channel: fold the writes' state operations in order.

    Each write is one step's list of operations (checkpoints hold them as lists, not
    tuples). Folding two batches one after the other equals folding them together.
    """
    return apply_state_ops(current, [tuple(op) for ops in writes for op in ops])


LEAN_CHANNELS = ("messages", "shared")
"""The channels of network and workflow graphs that are ``DeltaChannel``s."""

MessagesChannel: DeltaChannel[list[AnyMessage]] = DeltaChannel(
    cast(Any, _messages_delta_reducer), snapshot_frequency=SNAPSHOT_FREQUENCY
)
SharedChannel: DeltaChannel[dict[str, Any]] = DeltaChannel(
    merge_shared, snapshot_frequency=SNAPSHOT_FREQUENCY
)


def add_usage(current: dict[str, int] | None, update: dict[str, int]) -> dict[str, int]:
    """Reducer of the ``usage`` channel: sum token counts key by key."""
    result = dict(current or {})
    for key, value in update.items():
        result[key] = result.get(key, 0) + value
    return result


def last_value(current: Any, update: Any) -> Any:
    """Reducer that keeps the last write, for channels parallel branches may both set."""
    return update


def merge_dicts(current: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    """Reducer of keyed channels (``delegations``): later keys are added or replaced."""
    return {**(current or {}), **update}


class GraphState(TypedDict, total=False):
    """The checkpointed state of a network run.

    Channels with reducers accept writes from parallel branches; the per-run ones
    (``path``, ``turns``, ``usage``, ``tool_errors``, ``routes``, ``delegations``) are
    reset with ``Overwrite`` when a new run starts on a thread.
    """

    messages: Annotated[list[AnyMessage], MessagesChannel]
    shared: Annotated[dict[str, Any], SharedChannel]
    query: str
    active: str | None
    path: Annotated[list[str], operator.add]
    turns: Annotated[int, operator.add]
    rounds: int
    output: str
    parsed: Any
    stop_reason: Annotated[str | None, last_value]
    """Why the run stopped; parallel branches may both report ``max_iterations``."""
    usage: Annotated[dict[str, int], add_usage]
    tool_errors: Annotated[list[dict[str, Any]], operator.add]
    route: dict[str, Any] | None
    """The last routing decision (`RoutingDecision.to_dict`)."""
    routes: Annotated[list[dict[str, Any]], operator.add]
    """Every routing decision of the run, in order."""
    pending: list[dict[str, Any]]
    """Delegations the current tool step waits for (``Send`` payloads)."""
    delegations: Annotated[dict[str, dict[str, Any]], merge_dicts]
    """Finished delegations by tool-call id: agent, output, stop reason."""
    journal: Annotated[list[Any], operator.add]
    """Inside a delegation: every state operation, so the caller can replay them."""
