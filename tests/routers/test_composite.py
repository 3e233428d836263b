from __future__ import annotations

import pytest

from graph_agents import Agent, ConfigurationError, RoutingDecision, StateView
from graph_agents.routers import RoutingStrategy, RuleBasedRouter
from graph_agents.routers.base import RouteContext, Router

AGENTS = [Agent(n) for n in ("A", "B", "C")]


class Fixed(Router):
    def __init__(self, scores: dict[str, float], name: str = "fixed"):
        self._scores = scores
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def route(
        self, query: str, agents: object, state: StateView, context: RouteContext | None = None
    ) -> RoutingDecision:
        best = max(self._scores, key=lambda k: self._scores[k]) if self._scores else None
        return RoutingDecision(agent=best, scores=self._scores, reason=f"{self._name} says {best}")


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
    assert decision.reason.startswith("'B' scored 0.840; RuleBasedRouter (weight 0.80): rule")


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
    with pytest.raises(ConfigurationError, match=r"weight 0 of 'fixed' must be positive"):
        RoutingStrategy([(Fixed({}), 0)])

    def turns(context: RouteContext) -> str:
        return "A"

    with pytest.raises(ConfigurationError, match=r"'turns' is a per-turn router"):
        RoutingStrategy([(turns, 1.0)])
