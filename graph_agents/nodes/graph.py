"""Compile a network definition to a LangGraph ``StateGraph``.

Each agent contributes two nodes, its model step (named after the agent) and its tool
step (``"<agent> tools"``). After a model step, a conditional edge goes to the tool step
when the model called tools, and ends the turn otherwise; after a tool step, the edge
returns to the model step until the agent's ``max_tool_rounds`` is spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph

from ..models import RetryPolicy
from .agent import CompiledAgent, make_model_node, make_tool_node
from .context import RunContext
from .schema import GraphState

__all__ = ["build_graph"]


def build_graph(
    agents: Sequence[CompiledAgent], *, entry: CompiledAgent, retry: RetryPolicy
) -> StateGraph[GraphState, RunContext, Any, Any]:
    """Build the (uncompiled) graph for ``agents``; runs start at ``entry``."""
    builder: StateGraph[GraphState, RunContext, Any, Any] = StateGraph(
        GraphState, context_schema=RunContext
    )
    for spec in agents:
        builder.add_node(spec.model_node, make_model_node(spec, retry))
        builder.add_node(spec.tool_node, make_tool_node(spec))
        builder.add_conditional_edges(
            spec.model_node, _after_model(spec), [spec.tool_node, END]
        )
        builder.add_conditional_edges(
            spec.tool_node, _after_tools(spec), [spec.model_node, END]
        )
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
        return END if state.get("stop_reason") else model_node

    return route
