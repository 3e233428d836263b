"""Agent names: checked when a network is built, matched case-insensitively everywhere,
and a thread whose agent is gone fails clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph_agents import (
    Agent,
    ConfigurationError,
    RouteContext,
    RoutingError,
    SqliteStateStore,
    StateView,
    create_network,
)
from graph_agents.routers import (
    LoadBalancingRouter,
    RoutingStrategy,
    RuleBasedRouter,
    SemanticRouter,
)
from graph_agents.testing import ScriptedModel, ToolCall

from .routers.test_semantic import KeywordEmbeddings


def team(**replies: list[Any]) -> list[Agent]:
    return [
        Agent(name, f"You are {name}.", model=ScriptedModel(script))
        for name, script in replies.items()
    ]


KNOWN = "known agents: 'Researcher', 'Writer'. Use one of these names"


@pytest.mark.parametrize(
    ("router", "where"),
    [
        (RuleBasedRouter().add_rule("search", "Researcher").add_rule("write", "Writr"),
         "RuleBasedRouter rule 'write' names unknown agent 'Writr'"),
        (SemanticRouter(KeywordEmbeddings(), fallback="Helpdesk"),
         r"SemanticRouter\(fallback=\.\.\.\) names unknown agent 'Helpdesk'"),
        (SemanticRouter(KeywordEmbeddings(), examples={"Reviewer": ["check it"]}),
         r"SemanticRouter\(examples=\.\.\.\) names unknown agent 'Reviewer'"),
        (LoadBalancingRouter(agents=["Researcher", "Editor"]),
         r"LoadBalancingRouter\(agents=\.\.\.\) names unknown agent 'Editor'"),
        (RoutingStrategy([(RuleBasedRouter().add_rule("x", "Nobody"), 1.0)]),
         "RuleBasedRouter rule 'x' names unknown agent 'Nobody'"),
    ],
)  # fmt: skip
def test_every_name_a_router_can_route_to_is_checked_at_build(router: Any, where: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{where}; {KNOWN}"):
        create_network(agents=team(Researcher=[], Writer=[]), router=router)


def test_network_fallback_is_checked_at_build() -> None:
    with pytest.raises(
        ConfigurationError,
        match=rf"^create_network\(fallback=\.\.\.\) names unknown agent 'Triage'; {KNOWN}",
    ):
        create_network(agents=team(Researcher=[], Writer=[]), fallback="Triage")


def test_names_differing_only_in_case_are_refused() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"Two agents are named 'Writer' and 'writer'; agent names must be unique, "
        r"ignoring case",
    ):
        create_network(agents=team(Writer=[], writer=[]))


async def test_rule_targets_and_fallback_match_case_insensitively() -> None:
    router = RuleBasedRouter().add_rule("write", "writer")
    network = create_network(
        agents=team(Researcher=["found"], Writer=["written"]),
        router=router,
        fallback="RESEARCHER",
    )
    assert [rule.agent for rule in router.rules] == ["Writer"]
    written = await network.run("Please write it")
    assert written.agent_path == ["Writer"]
    assert written.routes[0]["agent"] == "Writer"
    other = await network.run("Something else")
    assert other.agent_path == ["Researcher"]
    assert other.routes[0]["agent"] == "Researcher"


async def test_router_decide_without_a_network_matches_case_insensitively() -> None:
    router = RuleBasedRouter().add_rule("write", "WRITER")
    decision = await router.decide("write it", team(Researcher=[], Writer=[]))
    assert decision.agent == "Writer"
    assert decision.scores == {"Researcher": 0.0, "Writer": 1.0}


async def test_state_and_per_turn_routers_match_case_insensitively() -> None:
    def by_state(state: StateView, query: str) -> str:
        return "writer"

    network = create_network(agents=team(Researcher=["found"], Writer=["w"]), router=by_state)
    result = await network.run("go")
    assert result.agent_path == ["Writer"]

    def per_turn(context: RouteContext) -> list[str] | None:
        return ["researcher", "WRITER"] if context.call_count == 0 else None

    parallel = create_network(
        agents=team(Researcher=["found"], Writer=["written"]), router=per_turn
    )
    merged = await parallel.run("go")
    assert sorted(merged.agent_path) == ["Researcher", "Writer"]
    assert merged.routes[0]["agent"] == ["Researcher", "Writer"]
    assert merged.output == "Researcher: found\n\nWriter: written"


def test_handoff_tool_names_are_lower_case_slugs() -> None:
    network = create_network(agents=team(Triage=[], Billing=[]))
    bound = network.agents[0]
    assert bound.name == "Triage"
    tools = network._agents["Triage"].tools  # the compiled agent's tools, by name
    assert sorted(tools) == ["ask_billing", "transfer_to_billing"]


async def test_continuing_a_thread_whose_agent_was_renamed(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite")
    old = create_network(
        agents=[
            Agent("Triage", model=ScriptedModel([ToolCall("transfer_to_billing", {})])),
            Agent("Billing", model=ScriptedModel(["Refunded."])),
        ],
        state_store=store,
    )
    async with old:
        first = await old.run("Refund me", thread_id="t1")
    assert first.agent_path == ["Triage", "Billing"]
    new = create_network(agents=team(Triage=["Hi."], Payments=["Paid."]), state_store=store)
    async with new:
        with pytest.raises(RoutingError) as caught:
            await new.run("And my invoice?", thread_id="t1")
    assert str(caught.value) == (
        "This thread was last held by agent 'Billing', which this network does not have "
        "(its agents: 'Triage', 'Payments'); was it renamed or removed? To go on, add an "
        "agent named 'Billing' back, give the network a router (create_network(router=...)) "
        "so it chooses the agent itself, or continue the conversation on a new thread."
    )


async def test_resuming_a_run_stopped_in_an_agent_that_is_gone(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite")
    old = create_network(
        agents=[
            Agent("Triage", model=ScriptedModel([ToolCall("transfer_to_billing", {})])),
            Agent("Billing", model=ScriptedModel([RuntimeError("endpoint down")])),
        ],
        state_store=store,
    )
    async with old:
        with pytest.raises(Exception, match="endpoint down"):
            await old.run("Refund me", thread_id="t2")
    new = create_network(agents=team(Triage=["Hi."], Payments=["Paid."]), state_store=store)
    async with new:
        with pytest.raises(ConfigurationError) as caught:
            await new.resume("t2")
    assert str(caught.value) == (
        "Cannot resume thread 't2': its run stopped in agent 'Billing', which this network "
        "does not have (its agents: 'Triage', 'Payments'); was it renamed or removed? To "
        "finish that run, resume it with a network that has an agent named 'Billing'. Or "
        "leave it: run(query, thread_id='t2') starts a new run on the thread (give the "
        "network a router if no agent of that name remains)."
    )
