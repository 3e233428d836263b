"""The LangGraph state schema every network graph shares, and its reducers."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from ..state import StateOp, apply_state_ops

__all__ = ["GraphState", "add_usage", "merge_shared"]


def merge_shared(current: dict[str, Any] | None, ops: list[StateOp]) -> dict[str, Any]:
    """Reducer of the ``shared`` channel: fold a step's recorded state operations in."""
    return apply_state_ops(current, [tuple(op) for op in ops])


def add_usage(current: dict[str, int] | None, update: dict[str, int]) -> dict[str, int]:
    """Reducer of the ``usage`` channel: sum token counts key by key."""
    result = dict(current or {})
    for key, value in update.items():
        result[key] = result.get(key, 0) + value
    return result


class GraphState(TypedDict, total=False):
    """The checkpointed state of a network run.

    Channels with reducers accept writes from parallel branches; the per-run ones
    (``path``, ``turns``, ``usage``, ``tool_errors``) are reset with ``Overwrite`` when a
    new run starts on a thread.
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
    stop_reason: str | None
    usage: Annotated[dict[str, int], add_usage]
    tool_errors: Annotated[list[dict[str, Any]], operator.add]
