"""The routing loop: request routers, per-turn routers, parallel agents and routing errors."""

from __future__ import annotations

from typing import Any

import pytest

from graph_agents import (
    END,
    Agent,
    ConfigurationError,
    RouteContext,
    RoutingError,
    StateView,
    create_network,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


def agents(**replies: list[Any]) -> list[Agent]:
    return [
        Agent(name, f"You are {name}.", model=ScriptedModel(script))
        for name, script in replies.items()
    ]


async def test_function_router_picks_the_agent(state_store: object) -> None:
    def by_mode(state: StateView, query: str) -> str:
        return "Writer" if state.get("mode") == "writing" else "Researcher"

    network = create_network(
        agents=agents(Researcher=["found"], Writer=["written"]),
        router=by_mode,
        state_store=state_store,
    )  # type: ignore[arg-type]
    network.state.set("mode", "writing")
    async with network:
        result = await network.run("Draft it")
    assert result.agent_path == ["Writer"]
    assert result.output == "written"
    assert result.routes == [
        {
            "agent": "Writer",
            "scores": {},
            "reason": "by_mode returned 'Writer'",
            "router": "by_mode",
            "low_confidence": False,
            "fell_back": False,
            "contributions": {},
            "turn": 0,
            "finished": False,
        }
    ]


async def test_async_function_router_and_handoff_chain(state_store: object) -> None:
    async def first(state: StateView, query: str) -> str:
        return "A"

    network = create_network(
        agents=agents(
            A=[ToolCall("transfer_to_b")],
            B=[ToolCall("transfer_to_c")],
            C=["C answers"],
        ),
        router=first,
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        result = await network.run("Go")
    assert result.agent_path == ["A", "B", "C"]
    assert result.iterations == 3
    assert result.output == "C answers"


async def test_per_turn_router_stops_on_call_count(state_store: object) -> None:
    seen: list[tuple[int, str | None, str | None]] = []

    def kit(context: RouteContext) -> str | None:
        seen.append((context.call_count, context.last_agent, context.last_result))
        if context.call_count >= 3:
            return None
        return ["Planner", "Coder", "Planner"][context.call_count]

    network = create_network(
        agents=agents(Planner=["plan v1", "plan v2"], Coder=["code v1"]),
        router=kit,
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        result = await network.run("Build it")
    assert result.agent_path == ["Planner", "Coder", "Planner"]
    assert result.output == "plan v2"
    assert result.stop_reason == "completed"
    assert seen == [
        (0, None, None),
        (1, "Planner", "plan v1"),
        (2, "Coder", "code v1"),
        (3, "Planner", "plan v2"),
    ]
    assert [r["agent"] for r in result.routes] == ["Planner", "Coder", "Planner", None]


async def test_per_turn_router_runs_a_list_in_parallel_and_merges() -> None:
    def fan_out(context: RouteContext) -> list[str] | str:
        return ["A", "B"] if context.call_count == 0 else END

    network = create_network(
        agents=agents(A=[ScriptedResponse(text="from A", delay=0.05)], B=["from B"]),
        router=fan_out,
    )
    result = await network.run("Both of you")
    assert sorted(result.agent_path) == ["A", "B"]
    assert result.output == "A: from A\n\nB: from B"
    assert [(m.type, m.name, m.content) for m in result.messages[1:]] == [
        ("ai", "A", "from A"),
        ("ai", "B", "from B"),
    ]


async def test_per_turn_router_respects_max_iterations() -> None:
    network = create_network(
        agents=agents(A=["a"] * 5), router=lambda context: "A", max_iterations=3
    )
    result = await network.run("Loop")
    assert result.stop_reason == "max_iterations"
    assert result.agent_path == ["A", "A", "A"]
    assert result.output == "a"


async def test_unknown_agent_lists_valid_names(state_store: object) -> None:
    network = create_network(
        agents=agents(Researcher=[], Writer=[]),
        router=lambda state, query: "Writr",
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        with pytest.raises(RoutingError) as info:
            await network.run("Write")
    assert str(info.value) == (
        "Router '<lambda>' chose unknown agent 'Writr'; known agents: 'Researcher', 'Writer'. "
        "Fix the router so it returns one of these names."
    )


async def test_no_opinion_uses_fallback_or_raises() -> None:
    def never(state: StateView, query: str) -> None:
        return None

    strict = create_network(agents=agents(A=[], B=[]), router=never)
    with pytest.raises(
        RoutingError,
        match=r"Router 'never' matched no agent for 'Hi'; known "
        r"agents: 'A', 'B'\. .*create_network\(fallback=\.\.\.\)",
    ):
        await strict.run("Hi")
    lenient = create_network(agents=agents(A=[], B=["fallback answer"]), router=never, fallback="B")
    result = await lenient.run("Hi")
    assert result.agent_path == ["B"]
    assert result.routes[0]["reason"] == "never returned None; fell back to 'B'"


def test_unknown_fallback_and_bad_router_are_configuration_errors() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"create_network\(fallback=\.\.\.\) names unknown agent 'Z'; known agents: 'A'\.",
    ):
        create_network(agents=agents(A=[]), fallback="Z")
    with pytest.raises(ConfigurationError, match=r"router 42 is not a Router or a function"):
        create_network(agents=agents(A=[]), router=42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"takes 3 required parameters"):
        create_network(agents=agents(A=[]), router=lambda a, b, c: "A")


async def test_a_raising_router_fails_the_run_and_resumes_after_the_fix(
    state_store: object,
) -> None:
    broken = {"on": True}

    def flaky(state: StateView, query: str) -> str:
        if broken["on"]:
            raise ConnectionError("rules service down")
        return "A"

    network = create_network(agents=agents(A=["recovered"]), router=flaky, state_store=state_store)  # type: ignore[arg-type]
    async with network:
        with pytest.raises(RoutingError) as info:
            await network.run("Help", thread_id="flaky-thread-" + str(id(network)))
        assert str(info.value).startswith(
            "Router 'flaky' raised ConnectionError: rules service down."
        )
        assert isinstance(info.value.__cause__, ConnectionError)
        thread = "flaky-thread-" + str(id(network))
        saved = await network.get_state(thread)
        assert saved is not None
        assert saved.next == ["route"]
        assert [m.content for m in saved.messages] == ["Help"]
        broken["on"] = False
        result = await network.resume(thread)
    assert result.output == "recovered"
    assert result.agent_path == ["A"]


async def test_parallel_turns_that_overshoot_max_iterations_stop_the_run() -> None:
    calls: list[int] = []

    def both(context: RouteContext) -> list[str]:
        calls.append(context.call_count)
        return ["A", "B"]

    network = create_network(
        agents=agents(A=["a1", "a2", "a3"], B=["b1", "b2", "b3"]), router=both, max_iterations=3
    )
    result = await network.run("go")
    assert calls == [0, 2]
    assert result.stop_reason == "max_iterations"
    assert result.iterations == 4
    assert sorted(result.agent_path) == ["A", "A", "B", "B"]
    assert result.output == "A: a2\n\nB: b2"


async def test_a_router_returning_something_else_than_names_is_a_routing_error() -> None:
    def wrong(state: StateView, query: str) -> Any:
        return 42

    network = create_network(agents=agents(A=["a"]), router=wrong)
    with pytest.raises(RoutingError) as caught:
        await network.run("go")
    assert str(caught.value) == (
        "Router 'wrong' returned 42; return an agent name, a list of agent names, or "
        "None/END to finish."
    )


async def test_the_network_names_the_router_when_its_decision_does_not() -> None:
    from graph_agents import RoutingDecision
    from graph_agents.routers import Router

    class Anonymous(Router):
        async def route(self, query: str, agents: Any, state: Any, context: Any = None) -> Any:
            return RoutingDecision(agent="A")

    network = create_network(agents=agents(A=["a"]), router=Anonymous())
    result = await network.run("go")
    assert result.routes[0]["router"] == "Anonymous"
