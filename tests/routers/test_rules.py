from __future__ import annotations

import pytest

from graph_agents import Agent, ConfigurationError, create_network
from graph_agents.routers import RuleBasedRouter
from graph_agents.testing import ScriptedModel

AGENTS = [Agent(n, f"{n}.") for n in ("Researcher", "Writer", "Reviewer", "Oncall")]


async def test_first_match_by_priority_then_insertion_order() -> None:
    router = RuleBasedRouter()
    router.add_rule(r".*search.*|.*find.*", "Researcher")
    router.add_rule(r".*write.*|.*create.*", "Writer")
    router.add_rule(r"review|check", "Reviewer")
    router.add_rule(r"urgent", "Oncall", priority=10)

    decision = await router.decide("Please FIND and write about llamas", AGENTS)
    assert decision.agent == "Researcher"
    assert decision.reason == "rule '.*search.*|.*find.*' (priority 0) matched"
    assert decision.scores == {"Researcher": 1.0, "Writer": 0.0, "Reviewer": 0.0, "Oncall": 0.0}

    assert (await router.decide("urgent: write the review", AGENTS)).agent == "Oncall"
    assert (await router.decide("Check my essay", AGENTS)).agent == "Reviewer"
    assert [r.pattern for r in router.rules] == [
        "urgent",
        r".*search.*|.*find.*",
        r".*write.*|.*create.*",
        "review|check",
    ]


async def test_no_match_is_no_opinion() -> None:
    router = RuleBasedRouter().add_rule("search", "Researcher")
    decision = await router.decide("hello there", AGENTS)
    assert decision.agent is None
    assert decision.reason == "no rule matched"


def test_invalid_regex_names_the_pattern() -> None:
    with pytest.raises(ConfigurationError) as info:
        RuleBasedRouter().add_rule(r"(unclosed", "Writer")
    assert str(info.value).startswith(
        "Rule pattern '(unclosed' for agent 'Writer' is not a valid regular expression: "
    )
    assert str(info.value).endswith("Escape special characters with re.escape().")


async def test_in_a_network_with_fallback() -> None:
    router = RuleBasedRouter().add_rule("write", "Writer")
    network = create_network(
        agents=[
            Agent("Writer", model=ScriptedModel(["draft"])),
            Agent("Helper", model=ScriptedModel(["helped"])),
        ],
        router=router,
        fallback="Helper",
    )
    assert (await network.run("write me a poem")).agent_path == ["Writer"]
    result = await network.run("what time is it")
    assert result.agent_path == ["Helper"]
    assert result.routes[0]["reason"] == "no rule matched; fell back to 'Helper'"
