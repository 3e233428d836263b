from __future__ import annotations

import pytest

from graph_agents import Agent, ConfigurationError


def search(query: str) -> str:
    """Search."""
    return query


def test_agent_keeps_its_definition() -> None:
    agent = Agent("Researcher", "You research.", tools=[search], description="Finds facts")
    assert agent.name == "Researcher"
    assert [t.name for t in agent.tool_list] == ["search"]
    assert agent.profile == "Finds facts"
    assert Agent("Writer", "You write.").profile == "You write."


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name_is_rejected(name: str) -> None:
    with pytest.raises(ConfigurationError, match=r"Agent name '\s*' is empty.*unique, non-empty"):
        Agent(name)


def test_duplicate_tool_names_are_rejected() -> None:
    def other() -> None:
        """Other."""

    other.__name__ = "search"
    with pytest.raises(
        ConfigurationError,
        match=r"Agent 'A' has two tools named 'search'\. Rename one with .*tool_from",
    ):
        Agent("A", tools=[search, other])


def test_non_callable_tool_is_rejected() -> None:
    with pytest.raises(
        ConfigurationError, match=r"Agent 'A': Tool 42 is not callable\. Pass a function"
    ):
        Agent("A", tools=[42])  # type: ignore[list-item]


def test_unknown_backend_lists_choices() -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown compute_backend 'hanzo-cloud'; choose one of 'local'"
    ):
        Agent("A", compute_backend="hanzo-cloud")


def test_tools_must_be_a_list() -> None:
    with pytest.raises(ConfigurationError, match="tools must be a list"):
        Agent("A", tools=search)  # type: ignore[arg-type]
