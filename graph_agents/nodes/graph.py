"""Compile a network definition to a LangGraph ``StateGraph``.

Each agent contributes two nodes, its model step (named after the agent) and its tool
step (``"<agent> tools"``). After a model step, a conditional edge goes to the tool step
when the model called tools, and ends the turn otherwise; after a tool step, the edge
returns to the model step until the agent's ``max_tool_rounds`` is spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.types import Overwrite

from ..models import RetryPolicy
from ..state import StateOp
from .agent import CompiledAgent, make_model_node, make_tool_node
from .context import RunContext
from .schema import GraphState

__all__ = ["build_graph", "run_input"]


def build_graph(
    agents: Sequence[CompiledAgent], *, entry: CompiledAgent, retry: RetryPolicy
) -> StateGraph[GraphState, RunContext, Any, Any]:
    """Build the (uncompiled) graph for ``agents``; runs start at ``entry``."""
    builder: StateGraph[GraphState, RunContext, Any, Any] = StateGraph(
        GraphState, context_schema=RunContext
    )
    for spec in agents:
        builder.add_node(spec.model_node, cast(Any, make_model_node(spec, retry)))
        builder.add_node(spec.tool_node, cast(Any, make_tool_node(spec)))
        builder.add_conditional_edges(spec.model_node, _after_model(spec), [spec.tool_node, END])
        targets = [spec.model_node, *(spec.handoffs.values()), END]
        builder.add_conditional_edges(spec.tool_node, _after_tools(spec), targets)
    builder.add_edge(START, entry.model_node)
    return builder


def _after_model(spec: CompiledAgent) -> Any:
    tool_node = spec.tool_node

    def route(state: GraphState) -> str:
        message = state["messages"][-1]
        if isinstance(message, AIMessage) and (message.tool_calls or message.invalid_tool_calls):
            return tool_node
        return END

    return route


def _after_tools(spec: CompiledAgent) -> Any:
    model_node = spec.model_node

    def route(state: GraphState) -> str:
        if state.get("stop_reason"):
            return END
        active = state.get("active")
        return active if active and active != spec.agent.name else model_node

    return route


def run_input(query: str, *, entry: str, seeds: list[StateOp]) -> dict[str, Any]:
    """The graph input that starts a run: the query, and the per-run channels reset."""
    inputs: dict[str, Any] = {
        "messages": [HumanMessage(query)],
        "query": query,
        "active": entry,
        "path": Overwrite([]),
        "turns": Overwrite(0),
        "usage": Overwrite({}),
        "tool_errors": Overwrite([]),
        "rounds": 0,
        "output": "",
        "parsed": None,
        "stop_reason": None,
    }
    if seeds:
        inputs["shared"] = seeds
    return inputs
