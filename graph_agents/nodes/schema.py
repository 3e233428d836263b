"""The LangGraph state schema every network graph shares, and its reducers."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from ..state import StateOp, apply_state_ops

__all__ = ["GraphState", "add_usage", "last_value", "merge_dicts", "merge_shared"]


def merge_shared(current: dict[str, Any] | None, ops: list[StateOp]) -> dict[str, Any]:
    """Reducer of the ``shared`` channel: fold a step's recorded state operations in."""
    return apply_state_ops(current, [tuple(op) for op in ops])


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

    messages: Annotated[list[AnyMessage], add_messages]
    shared: Annotated[dict[str, Any], merge_shared]
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
