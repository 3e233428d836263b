from __future__ import annotations

import asyncio

import pytest

from graph_agents import (
    Agent,
    ConfigurationError,
    ModelProviderError,
    OpenAIModelProvider,
    RoutingError,
    create_network,
)
from graph_agents.routers import LoadBalancingRouter
from graph_agents.testing import OpenAIStubServer, ScriptedModel, ScriptedResponse, ToolCall

NAMES = ("A", "B", "C")


async def eventually(condition: object, within: float = 1.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


def replicas(delay: float = 0.0) -> list[Agent]:
    return [
        Agent(
            n,
            model=ScriptedModel(
                responder=lambda m, n=n: ScriptedResponse(text=f"{n} answered", delay=delay)
            ),
        )
        for n in NAMES
    ]


async def test_round_robin_starts_at_the_first_agent() -> None:
    router = LoadBalancingRouter("round_robin", health_check_interval=0)
    network = create_network(agents=replicas(), router=router)
    paths = [(await network.run(f"q{i}")).agent_path for i in range(5)]
    assert paths == [["A"], ["B"], ["C"], ["A"], ["B"]]
    decision = await router.decide("q", replicas())
    assert (decision.agent, decision.scores) == ("C", {"A": 0.0, "B": 0.0, "C": 1.0})


async def test_least_loaded_counts_in_flight_turns_under_concurrency() -> None:
    router = LoadBalancingRouter("least_loaded", health_check_interval=0)
    network = create_network(agents=replicas(delay=0.1), router=router)
    first = [asyncio.create_task(network.run(f"q{i}")) for i in range(3)]
    await eventually(lambda: sum(router.in_flight.values()) == 3)
    assert router.in_flight == {"A": 1, "B": 1, "C": 1}
    fourth = asyncio.create_task(network.run("q3"))
    await eventually(lambda: sum(router.in_flight.values()) == 4)
    assert router.in_flight == {"A": 2, "B": 1, "C": 1}
    results = await asyncio.gather(*first, fourth)
    assert [r.agent_path for r in results] == [["A"], ["B"], ["C"], ["A"]]
    assert router.in_flight == {}


async def test_a_failing_turn_is_released_and_counted() -> None:
    router = LoadBalancingRouter("least_loaded", health_check_interval=0, failure_threshold=2)
    failing = Agent(
        "A",
        model=ScriptedModel(
            responder=lambda m: ScriptedResponse(
                error=ModelProviderError("Model 'x' is unreachable.")
            )
        ),
    )
    network = create_network(agents=[failing, *replicas()[1:]], router=router)
    for _ in range(2):
        with pytest.raises(ModelProviderError):
            await network.run("hi")
        assert router.in_flight == {}
    assert router.unhealthy == {"A": "2 consecutive failed turns"}
    assert (await network.run("hi")).agent_path == ["B"]


async def test_unhealthy_agents_are_skipped_and_restored() -> None:
    down: set[str] = set()
    router = LoadBalancingRouter(
        "round_robin", health_check_interval=0.02, health_check=lambda name: name not in down
    )
    network = create_network(agents=replicas(), router=router)
    async with network:
        assert (await network.run("q")).agent_path == ["A"]
        down.add("B")
        await eventually(lambda: "B" in router.unhealthy)
        assert router.unhealthy == {"B": "health check returned False"}
        assert [(await network.run("q")).agent_path[0] for _ in range(3)] == ["C", "A", "C"]
        down.clear()
        await eventually(lambda: not router.unhealthy)
        assert [(await network.run("q")).agent_path[0] for _ in range(3)] == ["A", "B", "C"]
        down.update(NAMES)
        await eventually(lambda: len(router.unhealthy) == 3)
        with pytest.raises(RoutingError) as info:
            await network.run("q")
    assert str(info.value) == (
        "LoadBalancingRouter: every candidate is unhealthy ('A': health check returned False; "
        "'B': health check returned False; 'C': health check returned False). Check the "
        "agents' model endpoints; they return after a passing health check."
    )
    assert router._checker is None
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_active_check_pings_the_model_endpoint() -> None:
    stub = OpenAIStubServer(["from the endpoint"]).start()
    provider = OpenAIModelProvider(base_url=stub.base_url, api_key="k")
    router = LoadBalancingRouter("round_robin", health_check_interval=0.05)
    network = create_network(
        agents=[Agent("Remote", model="gpt-x"), Agent("Local", model=ScriptedModel(["local"] * 3))],
        router=router,
        model_provider=provider,
    )
    async with network:
        assert (await network.run("q")).output == "from the endpoint"
        await router.check_health()
        assert router.unhealthy == {}
        assert any(r.path.endswith("/models") for r in stub.requests)
        stub.stop()
        await eventually(lambda: "Remote" in router.unhealthy, within=3.0)
        assert router.unhealthy["Remote"].startswith(
            "health check failed: ModelProviderError: Model 'gpt-x' at http://127.0.0.1:"
        )
        assert [(await network.run("q")).agent_path[0] for _ in range(2)] == ["Local", "Local"]


async def test_random_is_reproducible_with_a_seed() -> None:
    picks = []
    for _ in range(2):
        router = LoadBalancingRouter("random", health_check_interval=0, seed=7)
        picks.append([(await router.decide("q", replicas())).agent for _ in range(8)])
    assert picks[0] == picks[1]
    assert set(picks[0]) <= set(NAMES)


def test_configuration_errors() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"unknown strategy 'fastest'; choose one of "
        r"'round_robin', 'least_loaded', 'random'",
    ):
        LoadBalancingRouter("fastest")  # type: ignore[arg-type]
    with pytest.raises(
        ConfigurationError,
        match=r"LoadBalancingRouter\(agents=\.\.\.\) names unknown agent 'Z'; known agents: "
        r"'A', 'B', 'C'\. Use one of these names \(they match case-insensitively\)\.",
    ):
        create_network(agents=replicas(), router=LoadBalancingRouter(agents=["A", "Z"]))


async def test_failures_must_be_consecutive_to_mark_an_agent_unhealthy() -> None:
    router = LoadBalancingRouter(health_check_interval=0, failure_threshold=3)
    for failed in (True, True, False, True, True):
        router.dispatched("A")
        router.released("A", failed=failed)
    assert router.unhealthy == {}
    router.dispatched("A")
    router.released("A", failed=True)
    assert router.unhealthy == {"A": "3 consecutive failed turns"}
    assert router.in_flight == {}


async def test_random_skips_unhealthy_agents_and_takes_them_back() -> None:
    down: set[str] = {"B"}
    router = LoadBalancingRouter(
        "random", health_check_interval=0.02, seed=3, health_check=lambda name: name not in down
    )
    network = create_network(agents=replicas(), router=router)
    async with network:
        await network.run("warm up")  # starts the health checker
        await eventually(lambda: "B" in router.unhealthy)
        picks = {(await network.run("q")).agent_path[0] for _ in range(20)}
        assert picks == {"A", "C"}
        down.clear()
        await eventually(lambda: not router.unhealthy)
        picks = {(await network.run("q")).agent_path[0] for _ in range(30)}
        assert picks == {"A", "B", "C"}


async def test_a_turn_counts_as_in_flight_through_all_its_tool_rounds() -> None:
    router = LoadBalancingRouter("least_loaded", health_check_interval=0)
    seen: list[dict[str, int]] = []

    async def look() -> str:
        """Look around."""
        seen.append(router.in_flight)
        return "seen"

    worker = Agent(
        "A",
        tools=[look],
        model=ScriptedModel([ToolCall("look", {}), ToolCall("look", {}), "done"]),
    )
    network = create_network(agents=[worker], router=router)
    assert (await network.run("go")).output == "done"
    assert seen == [{"A": 1}, {"A": 1}]
    assert router.in_flight == {}


async def test_a_composite_closes_its_members_health_checks() -> None:
    from graph_agents.routers import RoutingStrategy, RuleBasedRouter

    balancer = LoadBalancingRouter(health_check_interval=0.02, health_check=lambda name: True)
    network = create_network(
        agents=replicas(), router=RoutingStrategy([(balancer, 1.0), (RuleBasedRouter(), 1.0)])
    )
    await network.run("q")
    assert balancer._checker is not None
    await network.aclose()
    assert balancer._checker is None


async def test_a_random_decision_scores_the_chosen_agent_only() -> None:
    router = LoadBalancingRouter("random", health_check_interval=0, seed=5)
    decision = await router.decide("q", replicas())
    assert decision.scores == {name: float(name == decision.agent) for name in NAMES}
