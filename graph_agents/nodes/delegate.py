"""Delegations and parallel branches: an agent's work run as a nested graph.

An ``ask_<agent>(task)`` call, and each agent of a parallel routing step, runs as one
``Send`` task that invokes the delegation graph (the network's agents without a router)
as a subgraph. Each task gets its own checkpoint namespace, so several run concurrently
and durably; a subgraph starts from the caller's shared state and returns the operations
it recorded, which the caller applies in task order.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, HumanMessage

from .context import RunContext

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph
    from langgraph.runtime import Runtime

__all__ = ["SubgraphHolder", "make_delegate_node", "subgraph_input"]


@dataclass
class SubgraphHolder:
    """Late-bound reference to the compiled delegation graph (which delegates to itself)."""

    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None


def subgraph_input(agent: str, messages: list[Any], shared: dict[str, Any]) -> dict[str, Any]:
    """The input of a delegation subgraph run."""
    return {
        "messages": messages,
        "query": str(messages[-1].content) if messages else "",
        "active": agent,
        "shared": [("set", key, value) for key, value in shared.items()],
        "path": [],
        "turns": 0,
        "rounds": 0,
        "output": "",
        "stop_reason": None,
    }


def make_delegate_node(
    holder: SubgraphHolder,
) -> Callable[[dict[str, Any], Runtime[RunContext]], Awaitable[dict[str, Any]]]:
    """The node that runs one delegation or one parallel branch (its input is the payload)."""

    async def delegate(payload: dict[str, Any], runtime: Runtime[RunContext]) -> dict[str, Any]:
        ctx = runtime.context
        agent = payload["agent"]
        key = payload["call_id"]
        remaining = ctx.max_iterations - payload["turns"]
        if remaining <= 0:
            return {
                "delegations": {
                    key: {
                        "agent": agent,
                        "output": "",
                        "error": f"max_iterations ({ctx.max_iterations}) reached before "
                        f"{agent!r} could start",
                    }
                },
                "stop_reason": "max_iterations",
            }
        if payload["mode"] == "delegate":
            messages: list[Any] = [HumanMessage(payload["task"])]
        else:
            messages = list(payload["messages"])
        # Events of the nested work carry its lane: the delegation's call, or the branch.
        segment = f"ask:{key}" if payload["mode"] == "delegate" else f"branch:{agent}"
        sub_context = ctx.within(segment, max_iterations=remaining, depth=ctx.depth + 1)
        assert holder.graph is not None
        started = time.perf_counter()
        final = await holder.graph.ainvoke(
            subgraph_input(agent, messages, payload["shared"]), context=sub_context
        )
        duration = round((time.perf_counter() - started) * 1000, 3)
        output = final.get("output", "")
        journal = final.get("journal", [])
        update: dict[str, Any] = {
            "delegations": {
                key: {
                    "agent": agent,
                    "output": output,
                    "stop_reason": final.get("stop_reason"),
                    "duration_ms": duration,
                }
            },
            "path": final.get("path", []),
            "turns": final.get("turns", 0),
            "usage": final.get("usage", {}),
            "tool_errors": final.get("tool_errors", []),
        }
        if journal:
            update["shared"] = journal
            if ctx.depth:
                update["journal"] = journal
        if payload["mode"] == "parallel":
            update["messages"] = [AIMessage(content=output, name=agent)]
        if final.get("stop_reason") == "max_iterations":
            update["stop_reason"] = "max_iterations"
        return update

    return delegate
