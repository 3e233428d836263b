"""Compile a network definition to a LangGraph ``StateGraph``.

Each agent contributes two nodes, its model step (named after the agent) and its tool
step (``"<agent> tools"``). After a model step, a conditional edge goes to the tool step
when the model called tools, and otherwise ends the turn: to the routing step when the
router is consulted every turn, else to the end. After a tool step the edge fans out to
the ``delegate`` node for pending ``ask_*`` calls, follows a handoff, or returns to the
model step.

The network graph starts at the routing step when there is a router, else at the agent
that last held the thread (the first agent on a new thread). The delegation graph, which
``delegate`` and ``parallel`` tasks run as a subgraph, is the same agents without a router.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Overwrite, Send

from ..exceptions import RoutingError
from ..models import RetryPolicy
from ..routers.base import Router
from ..state import StateOp
from .agent import CompiledAgent, make_model_node
from .context import RunContext
from .delegate import SubgraphHolder, make_delegate_node
from .route import PARALLEL_NODE, ROUTE_NODE, make_route_node, route_edge
from .schema import GraphState
from .tools import make_tool_node

__all__ = [
    "DELEGATE_NODE",
    "OPERATOR_NODE",
    "RESERVED_NODE_NAMES",
    "add_operator_node",
    "build_graph",
    "missing_agent_message",
    "run_input",
    "stopped_in_missing_agent",
]

DELEGATE_NODE = "delegate"
OPERATOR_NODE = "__operator__"
"""A node no edge leads to or from: ``update_state`` writes an operator's fix as this
node, so the fix is a checkpoint of its own that schedules nothing."""
RESERVED_NODE_NAMES = frozenset({ROUTE_NODE, PARALLEL_NODE, DELEGATE_NODE, OPERATOR_NODE})

_Builder: TypeAlias = StateGraph[Any, Any, Any, Any]


def build_graph(
    agents: Sequence[CompiledAgent],
    *,
    router: Router | None,
    fallback: str | None,
    retry: RetryPolicy,
) -> tuple[StateGraph[Any, Any, Any, Any], CompiledStateGraph[Any, Any, Any, Any]]:
    """Build the network graph (uncompiled) and compile the delegation graph it calls."""
    holder = SubgraphHolder()
    delegation = _builder(agents, router=None, fallback=None, retry=retry, holder=holder)
    holder.graph = delegation.compile(name="delegation")
    network = _builder(agents, router=router, fallback=fallback, retry=retry, holder=holder)
    add_operator_node(network)
    return network, holder.graph


def add_operator_node(builder: StateGraph[Any, Any, Any, Any]) -> None:
    """Add `OPERATOR_NODE` to ``builder``."""

    async def operator(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    builder.add_node(OPERATOR_NODE, cast(Any, operator))


def _builder(
    agents: Sequence[CompiledAgent],
    *,
    router: Router | None,
    fallback: str | None,
    retry: RetryPolicy,
    holder: SubgraphHolder,
) -> _Builder:
    builder: _Builder = StateGraph(GraphState, context_schema=RunContext)
    names = [spec.model_node for spec in agents]
    per_turn = router is not None and router.per_turn
    for spec in agents:
        builder.add_node(
            spec.model_node, cast(Any, make_model_node(spec, retry, ends_run=not per_turn))
        )
        builder.add_node(spec.tool_node, cast(Any, make_tool_node(spec)))
        after_turn = ROUTE_NODE if per_turn else END
        builder.add_conditional_edges(
            spec.model_node, _after_model(spec, after_turn), [spec.tool_node, after_turn]
        )
        builder.add_conditional_edges(
            spec.tool_node,
            _after_tools(spec),
            [spec.model_node, *spec.handoffs.values(), DELEGATE_NODE, END],
        )
    builder.add_node(DELEGATE_NODE, cast(Any, make_delegate_node(holder)))
    builder.add_conditional_edges(
        DELEGATE_NODE, _after_delegate, [f"{name} tools" for name in names] + [END]
    )
    if router is None:
        builder.add_conditional_edges(START, _resume_active(names[0], names), names)
        return builder
    builder.add_node(
        ROUTE_NODE,
        cast(Any, make_route_node(router, [spec.agent for spec in agents], fallback=fallback)),
    )
    builder.add_edge(START, ROUTE_NODE)
    builder.add_conditional_edges(ROUTE_NODE, route_edge, [*names, PARALLEL_NODE, END])
    builder.add_node(PARALLEL_NODE, cast(Any, make_delegate_node(holder)))
    builder.add_edge(PARALLEL_NODE, ROUTE_NODE)
    return builder


def _after_model(spec: CompiledAgent, after_turn: str) -> Any:
    tool_node = spec.tool_node

    def edge(state: GraphState) -> str:
        message = state["messages"][-1]
        if isinstance(message, AIMessage) and (message.tool_calls or message.invalid_tool_calls):
            return tool_node
        return after_turn

    return edge


def _after_tools(spec: CompiledAgent) -> Any:
    model_node = spec.model_node

    def edge(state: GraphState) -> str | list[Send]:
        pending = state.get("pending")
        if pending:
            return [Send(DELEGATE_NODE, payload) for payload in pending]
        if state.get("stop_reason"):
            return END
        active = state.get("active")
        return active if active and active != spec.agent.name else model_node

    return edge


def _after_delegate(state: GraphState) -> str:
    if state.get("stop_reason"):
        return END
    return f"{state.get('active')} tools"


def _resume_active(first: str, names: list[str]) -> Any:
    def edge(state: GraphState) -> str:
        active = state.get("active") or first
        if active not in names:
            raise RoutingError(missing_agent_message(active, names))
        return active

    return edge


def missing_agent_message(missing: str, names: Sequence[str]) -> str:
    """Why a thread cannot go on: the agent that held it is not in this network."""
    known = ", ".join(repr(n) for n in names)
    return (
        f"This thread was last held by agent {missing!r}, which this network does not have "
        f"(its agents: {known}); was it renamed or removed? To go on, add an agent named "
        f"{missing!r} back, give the network a router (create_network(router=...)) so it "
        "chooses the agent itself, or continue the conversation on a new thread."
    )


def stopped_in_missing_agent(thread_id: str, agent: str, names: Sequence[str]) -> str:
    """Why ``resume()`` cannot finish a run that stopped in an agent the network lacks."""
    known = ", ".join(repr(name) for name in names)
    return (
        f"Cannot resume thread {thread_id!r}: its run stopped in agent {agent!r}, which "
        f"this network does not have (its agents: {known}); was it renamed or removed? To "
        f"finish that run, resume it with a network that has an agent named {agent!r}. Or "
        f"leave it: run(query, thread_id={thread_id!r}) starts a new run on the thread "
        "(give the network a router if no agent of that name remains)."
    )


def run_input(query: str, *, seeds: list[StateOp]) -> dict[str, Any]:
    """The graph input that starts a run: the query, and the per-run channels reset."""
    inputs: dict[str, Any] = {
        "messages": [HumanMessage(query)],
        "query": query,
        "path": Overwrite([]),
        "turns": Overwrite(0),
        "usage": Overwrite({}),
        "tool_errors": Overwrite([]),
        "routes": Overwrite([]),
        "delegations": Overwrite({}),
        "pending": [],
        "route": None,
        "rounds": 0,
        "output": "",
        "parsed": None,
        "stop_reason": None,
    }
    if seeds:
        inputs["shared"] = seeds
    return inputs
