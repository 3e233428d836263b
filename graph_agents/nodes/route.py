"""The routing step: ask the network's router, record the decision, then branch on it.

The decision is written to state (``route`` and the run's ``routes``) and so checkpointed
with the step: a resumed run follows the recorded decision instead of asking again. The
conditional edge after the step only reads it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from langgraph.graph import END
from langgraph.types import Send

from .._secrets import reveal_state
from ..exceptions import GraphAgentsError, RoutingError
from ..routers.base import RouteContext, Router, check_decision
from ..state import StateView
from .context import RunContext
from .schema import GraphState

if TYPE_CHECKING:
    from langgraph.runtime import Runtime

    from ..agent import Agent

__all__ = ["PARALLEL_NODE", "ROUTE_NODE", "make_route_node", "route_edge"]

ROUTE_NODE = "route"
PARALLEL_NODE = "parallel"


def make_route_node(
    router: Router, agents: Sequence[Agent], *, fallback: str | None
) -> Callable[[GraphState, Runtime[RunContext]], Awaitable[dict[str, Any]]]:
    """The routing step for ``router``.

    A request router is asked once per run, a per-turn router before every turn. A
    request router with no opinion sends the request to ``fallback``, or raises
    `RoutingError` when there is none; a request router's ``low_confidence`` decision
    goes to ``fallback`` too, when there is one.
    """

    async def route(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        ctx = runtime.context
        turns = state.get("turns", 0)
        update: dict[str, Any] = {}
        last_result, merged = _last_result(state)
        if merged is not None:
            update["output"] = merged
        if state.get("stop_reason") or (not router.per_turn and state.get("routes")):
            # A request router answers once per request; a parallel step it chose ends
            # here with the merged answer.
            return {
                **update,
                "stop_reason": state.get("stop_reason") or "completed",
                "route": {"agent": None, "finished": True},
            }
        if turns >= ctx.max_iterations:
            return {
                **update,
                "stop_reason": "max_iterations",
                "route": {"agent": None, "finished": True},
            }
        view = StateView(reveal_state(state.get("shared")))
        query = state.get("query", "")
        context = None
        if router.per_turn:
            path = state.get("path") or []
            context = RouteContext(
                call_count=turns,
                last_agent=path[-1] if path else None,
                last_result=last_result if turns else None,
                state=view,
                query=query,
                agents=agents,
                messages=list(state.get("messages") or []),
            )
        try:
            decision = await router.route(query, agents, view, context)
        except GraphAgentsError:
            raise
        except Exception as exc:
            raise RoutingError(
                f"Router {router.name!r} raised {type(exc).__name__}: {exc}. The thread's "
                "checkpoint keeps the run so far; fix the router, then call "
                "network.resume(thread_id)."
            ) from exc
        if not decision.router:
            decision = replace(decision, router=router.name)
        if not decision.agents and not router.per_turn:
            if fallback is None:
                known = ", ".join(repr(a.name) for a in agents)
                raise RoutingError(
                    f"Router {router.name!r} matched no agent for {query!r}; known agents: "
                    f"{known}. Add a rule that matches, or pass create_network(fallback=...)."
                )
            decision = replace(
                decision,
                agent=fallback,
                fell_back=True,
                reason=f"{decision.reason or 'no match'}; fell back to {fallback!r}",
            )
        elif decision.low_confidence and fallback is not None and not router.per_turn:
            decision = replace(
                decision,
                agent=fallback,
                fell_back=True,
                low_confidence=False,
                reason=f"{decision.reason}; low confidence, so the network's fallback "
                f"{fallback!r} took it",
            )
        decision = check_decision(decision, agents, router=router.name)
        record = {**decision.to_dict(), "turn": turns, "finished": not decision.agents}
        ctx.emit("route.decided", record)
        update.update({"route": record, "routes": [record], "rounds": 0})
        if not decision.agents:
            update["stop_reason"] = "completed"
        if len(decision.agents) == 1:
            update["active"] = decision.agents[0]
        if ctx.turns is not None:
            for agent in decision.agents:
                ctx.turns.dispatch(agent)
        return update

    return route


def route_edge(state: GraphState) -> str | list[Send]:
    """Branch on the recorded decision: one agent, parallel agents, or the end."""
    decision = state.get("route") or {}
    chosen = decision.get("agent")
    if decision.get("finished") or not chosen:
        return END
    if isinstance(chosen, str):
        return chosen
    step = len(state.get("routes") or [])
    shared = dict(state.get("shared") or {})
    messages = list(state.get("messages") or [])
    return [
        Send(
            PARALLEL_NODE,
            {
                "mode": "parallel",
                "agent": agent,
                "call_id": f"parallel:{step}:{agent}",
                "messages": messages,
                "shared": shared,
                "turns": state.get("turns", 0),
            },
        )
        for agent in chosen
    ]


def _last_result(state: GraphState) -> tuple[str | None, str | None]:
    """The previous turn's answer, and the merged answer when it was a parallel step."""
    decision = state.get("route") or {}
    chosen = decision.get("agent")
    if isinstance(chosen, list) and not decision.get("finished"):
        step = len(state.get("routes") or [])
        results = state.get("delegations") or {}
        parts = [
            f"{agent}: {results[key]['output']}"
            for agent in chosen
            if (key := f"parallel:{step}:{agent}") in results
        ]
        merged = "\n\n".join(parts)
        return merged, merged
    return state.get("output"), None
