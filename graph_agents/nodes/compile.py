"""Agent definitions in, compiled agents out; LangGraph snapshots in, `ThreadState` out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._secrets import reveal_state
from ..agent import Agent
from ..exceptions import ConfigurationError
from ..models import ModelProvider, model_probe, resolve_model
from ..result import ThreadState
from ..routers.base import RouterSetup
from .agent import CompiledAgent, ask_tool_name
from .approval import requests_from_interrupts
from .graph import RESERVED_NODE_NAMES

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langgraph.types import StateSnapshot

__all__ = ["compile_agents", "router_setup", "thread_state_from_snapshot"]


def compile_agents(
    agents: Sequence[Agent],
    *,
    default_model: str | BaseChatModel | None,
    provider: ModelProvider | None,
) -> dict[str, CompiledAgent]:
    """Validate the agents of a network and resolve their models and tools.

    Raises:
        ConfigurationError: no agents, a non-`Agent`, duplicate or reserved names, names
            whose handoff tools collide, or an agent without a model.
    """
    if not agents:
        raise ConfigurationError("create_network(agents=[]) has no agents; pass at least one.")
    seen: dict[str, Agent] = {}
    slugs: dict[str, str] = {}
    for agent in agents:
        if not isinstance(agent, Agent):
            raise ConfigurationError(f"{agent!r} is not an Agent; wrap it as Agent(name, ...).")
        twin = next((name for name in seen if name.casefold() == agent.name.casefold()), None)
        if twin is not None:
            same = "named" if twin == agent.name else f"named {twin!r} and"
            raise ConfigurationError(
                f"Two agents are {same} {agent.name!r}; agent names must be unique, ignoring "
                "case (routers, handoffs and workflows match names case-insensitively)."
            )
        if agent.name in RESERVED_NODE_NAMES or any(c in agent.name for c in ":|"):
            reserved = ", ".join(repr(n) for n in sorted(RESERVED_NODE_NAMES))
            raise ConfigurationError(
                f"Agent name {agent.name!r} is reserved or contains ':' or '|'; rename it "
                f"(reserved names: {reserved})."
            )
        slug = ask_tool_name(agent.name)
        if slug in slugs and len(agents) > 1:
            raise ConfigurationError(
                f"Agents {slugs[slug]!r} and {agent.name!r} share the handoff tool name "
                f"{'transfer_to_' + slug.removeprefix('ask_')!r}; rename one of them."
            )
        if agent.memory is not None:
            from ..memory import MemoryManager

            if not isinstance(agent.memory, MemoryManager):
                raise ConfigurationError(
                    f"Agent {agent.name!r}: memory={agent.memory!r} is not a MemoryManager; "
                    "pass graph_agents.memory.MemoryManager(store=VectorMemoryStore(...))."
                )
            if agent.name not in agent.memory.agents:
                agent.memory.agents.append(agent.name)
        seen[agent.name] = agent
        slugs[slug] = agent.name
    return {
        agent.name: CompiledAgent.build(
            agent,
            resolve_model(agent.model, default=default_model, provider=provider, owner=agent.name),
            agents,
        )
        for agent in agents
    }


def router_setup(
    agents: dict[str, CompiledAgent],
    default_model: str | BaseChatModel | None,
    provider: ModelProvider | None,
) -> RouterSetup:
    """What the network tells its router: agents, provider, default model and probes."""
    default = resolve_model(None, default=default_model, provider=provider, owner="router")
    probes = {
        name: probe
        for name, spec in agents.items()
        if (probe := model_probe(spec.model)) is not None
    }
    return RouterSetup(
        agents=[spec.agent for spec in agents.values()],
        provider=provider,
        default_model=default,
        probes=probes,
    )


def thread_state_from_snapshot(thread_id: str, snapshot: StateSnapshot) -> ThreadState:
    """Convert a LangGraph ``StateSnapshot`` to the public `ThreadState`."""
    values: dict[str, Any] = dict(snapshot.values or {})
    interrupts = requests_from_interrupts(snapshot.interrupts, thread_id)
    parent = (snapshot.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    return ThreadState(
        thread_id=thread_id,
        checkpoint_id=str(snapshot.config.get("configurable", {}).get("checkpoint_id", "")),
        created_at=snapshot.created_at or "",
        state=reveal_state(values.get("shared")),
        messages=list(values.get("messages") or []),
        agent_path=list(values.get("path") or []),
        query=str(values.get("query") or ""),
        output=str(values.get("output") or ""),
        stop_reason="interrupted" if interrupts else values.get("stop_reason"),
        route=values.get("route"),
        active_agent=values.get("active"),
        next=list(snapshot.next),
        step=int((snapshot.metadata or {}).get("step", -1)),
        interrupts=interrupts,
        parent_checkpoint_id=str(parent) if parent else None,
    )
