from __future__ import annotations

import re

import pytest

from graph_agents import Agent, ConfigurationError, RoutingDecision, StateView, create_network
from graph_agents.routers import RoutingStrategy, RuleBasedRouter
from graph_agents.routers.base import RouteContext, Router
from graph_agents.testing import ScriptedModel

AGENTS = [Agent(n) for n in ("A", "B", "C")]


class Fixed(Router):
    def __init__(
        self,
        scores: dict[str, float],
        name: str = "fixed",
        *,
        agent: str | None = None,
        low_confidence: bool = False,
        fell_back: bool = False,
    ):
        self._scores = scores
        self._name = name
        self._agent = agent
        self._flags = {"low_confidence": low_confidence, "fell_back": fell_back}

    @property
    def name(self) -> str:
        return self._name

    async def route(
        self, query: str, agents: object, state: StateView, context: RouteContext | None = None
    ) -> RoutingDecision:
        best = max(self._scores, key=lambda k: self._scores[k]) if self._scores else None
        best = self._agent or best
        return RoutingDecision(
            agent=best, scores=self._scores, reason=f"{self._name} says {best}", **self._flags
        )


async def test_weighted_sum_decides_and_records_contributions() -> None:
    rules = RuleBasedRouter().add_rule("poem", "B")
    semantic = Fixed({"A": 0.9, "B": 0.2, "C": 0.1}, name="semantic")
    router = RoutingStrategy([(rules, 0.8), (semantic, 0.2)])
    decision = await router.decide("write a poem", AGENTS)
    assert decision.agent == "B"
    assert decision.contributions == {
        "RuleBasedRouter": {"A": 0.0, "B": 0.8, "C": 0.0},
        "semantic": {"A": pytest.approx(0.18), "B": pytest.approx(0.04), "C": pytest.approx(0.02)},
    }
    assert decision.scores == {
        "A": pytest.approx(0.18),
        "B": pytest.approx(0.84),
        "C": pytest.approx(0.02),
    }
    assert decision.reason == (
        "'B' scored 0.840 (RuleBasedRouter 0.800 + semantic 0.040); RuleBasedRouter "
        "(weight 0.80): rule 'poem' (priority 0) matched; semantic (weight 0.20): semantic says A"
    )


async def test_no_opinion_contributes_nothing_and_weights_normalise() -> None:
    rules = RuleBasedRouter().add_rule("poem", "B")
    router = RoutingStrategy([(rules, 3), (Fixed({"A": 0.5, "C": 0.4}), 1)])
    decision = await router.decide("tell me something", AGENTS)
    assert decision.agent == "A"
    assert decision.contributions == {
        "RuleBasedRouter": {},
        "fixed": {"A": 0.125, "C": 0.1},
    }


async def test_ties_go_to_the_first_agent_and_all_silent_is_no_opinion() -> None:
    router = RoutingStrategy([(Fixed({"C": 1.0}, "one"), 1), (Fixed({"B": 1.0}, "two"), 1)])
    assert (await router.decide("x", AGENTS)).agent == "B"
    silent = RoutingStrategy([(RuleBasedRouter(), 1)])
    decision = await silent.decide("x", AGENTS)
    assert decision.agent is None


def test_invalid_members() -> None:
    with pytest.raises(ConfigurationError, match=r"RoutingStrategy\(\[\]\) has no routers"):
        RoutingStrategy([])
    for bad in (0, -1, float("nan"), float("inf"), True, "0.5"):
        with pytest.raises(
            ConfigurationError,
            match=rf"^RoutingStrategy: weight {re.escape(repr(bad))} of 'fixed' must be a "
            r"positive number, e\.g\. 0\.8\.$",
        ):
            RoutingStrategy([(Fixed({}), bad)])  # type: ignore[list-item]

    def turns(context: RouteContext) -> str:
        return "A"

    with pytest.raises(ConfigurationError, match=r"'turns' is a per-turn router"):
        RoutingStrategy([(turns, 1.0)])


AGENTS_T = [Agent(n) for n in ("Triage", "Billing", "Tech")]


async def test_a_member_that_fell_back_is_not_outvoted_by_a_weak_score() -> None:
    semantic = Fixed(
        {"Triage": 0.1, "Billing": 0.2, "Tech": 0.25}, "semantic", agent="Triage", fell_back=True
    )
    weak = Fixed({"Billing": 0.3}, "other", low_confidence=True)
    router = RoutingStrategy([(RuleBasedRouter(), 0.5), (semantic, 0.3), (weak, 0.2)])
    decision = await router.decide("hello there", AGENTS_T)
    assert decision.agent == "Triage"
    assert decision.fell_back
    assert not decision.low_confidence
    assert decision.reason == (
        "no member is confident; used the fallback of semantic; RuleBasedRouter: no opinion; "
        "semantic (weight 0.30) (weak): semantic says Triage; other (weight 0.20) (weak): "
        "other says Billing"
    )


async def test_a_confident_member_beats_weak_ones_whatever_their_scores() -> None:
    rules = RuleBasedRouter().add_rule("invoice", "Billing")
    semantic = Fixed({"Tech": 0.9}, "semantic", agent="Triage", fell_back=True)
    router = RoutingStrategy([(rules, 0.2), (semantic, 0.8)])
    decision = await router.decide("my invoice", AGENTS_T)
    assert decision.agent == "Billing"
    assert not decision.fell_back
    assert decision.contributions == {
        "RuleBasedRouter": {"Triage": 0.0, "Billing": pytest.approx(0.2), "Tech": 0.0},
        "semantic": {},
    }


async def test_only_low_confidence_members_make_a_low_confidence_decision() -> None:
    one = Fixed({"Billing": 0.3, "Tech": 0.2}, "one", low_confidence=True)
    two = Fixed({"Tech": 0.3}, "two", low_confidence=True)
    decision = await RoutingStrategy([(one, 1), (two, 1)]).decide("hm", AGENTS_T)
    assert decision.agent == "Tech"
    assert decision.low_confidence
    assert decision.reason.startswith(
        "no member is confident; 'Tech' scored 0.250 (one 0.100 + two 0.150)"
    )


async def test_the_composite_fallback_takes_what_no_member_is_confident_about() -> None:
    weak = Fixed({"Billing": 0.3}, "weak", low_confidence=True)
    router = RoutingStrategy([(weak, 1), (RuleBasedRouter(), 1)], fallback="triage")
    network = create_network(
        agents=[Agent(a.name, model=ScriptedModel([f"{a.name} here"])) for a in AGENTS_T],
        router=router,
    )
    assert router.fallback == "Triage"
    result = await network.run("hm")
    assert result.agent_path == ["Triage"]
    assert result.routes[0]["fell_back"] is True
    assert result.routes[0]["reason"].startswith("no member is confident; fell back to 'Triage'")
    silent = RoutingStrategy([(RuleBasedRouter(), 1)], fallback="Tech")
    assert (await silent.decide("x", AGENTS_T)).agent == "Tech"


async def test_the_network_fallback_takes_a_low_confidence_composite_decision() -> None:
    weak = Fixed({"Billing": 0.3}, "weak", low_confidence=True)
    network = create_network(
        agents=[Agent(a.name, model=ScriptedModel([f"{a.name} here"])) for a in AGENTS_T],
        router=RoutingStrategy([(weak, 1)]),
        fallback="Tech",
    )
    result = await network.run("hm")
    assert result.agent_path == ["Tech"]
    assert result.output == "Tech here"
    route = result.routes[0]
    assert (route["fell_back"], route["low_confidence"]) == (True, False)
    assert route["reason"].endswith("; low confidence, so the network's fallback 'Tech' took it")


def test_unknown_composite_fallback_fails_at_build() -> None:
    with pytest.raises(
        ConfigurationError, match=r"^RoutingStrategy\(fallback=\.\.\.\) names unknown agent 'Nope'"
    ):
        create_network(
            agents=[Agent("A", model=ScriptedModel())],
            router=RoutingStrategy([(RuleBasedRouter(), 1)], fallback="Nope"),
        )


async def test_turn_counts_reach_every_member() -> None:
    from graph_agents.routers import LoadBalancingRouter

    balancer = LoadBalancingRouter("least_loaded", health_check_interval=0, failure_threshold=1)
    router = RoutingStrategy([(RuleBasedRouter(), 1.0), (balancer, 1.0)])
    router.dispatched("A")
    router.dispatched("A")
    assert balancer.in_flight == {"A": 2}
    router.released("A", failed=False)
    router.released("A", failed=True)
    assert balancer.in_flight == {}
    assert balancer.unhealthy == {"A": "1 consecutive failed turns"}
