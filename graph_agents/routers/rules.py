"""`RuleBasedRouter`: route by regular expressions, first match by priority."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from .base import RouteContext, Router, RouterSetup, RoutingDecision, known_agent, match_agent

if TYPE_CHECKING:
    from ..agent import Agent
    from ..state import StateView

__all__ = ["Rule", "RuleBasedRouter"]


@dataclass(frozen=True)
class Rule:
    """One pattern and the agent it routes to."""

    pattern: str
    """The regular expression as given."""
    agent: str
    """The agent a match routes to."""
    priority: int
    """Higher priorities are tried first."""
    order: int
    """Insertion order, the tie-breaker between equal priorities."""
    compiled: re.Pattern[str]
    """The pattern, compiled once, case-insensitive."""


class RuleBasedRouter(Router):
    """Route requests by case-insensitive regular expressions.

    Rules are tried by priority (highest first), then in the order they were added; the
    first that matches anywhere in the request wins. No match is no opinion: the network
    then uses its fallback agent or raises `RoutingError`.

    Example:
        ```python
        router = RuleBasedRouter()
        router.add_rule(r".*search.*|.*find.*", "Researcher")
        router.add_rule(r"urgent", "Oncall", priority=10)
        ```
    """

    def __init__(self) -> None:
        self._rules: list[Rule] = []

    @property
    def rules(self) -> list[Rule]:
        """The rules in the order they are tried."""
        return list(self._rules)

    def add_rule(self, pattern: str, agent: str, *, priority: int = 0) -> RuleBasedRouter:
        """Route requests matching ``pattern`` to ``agent``; returns the router for chaining.

        Raises:
            ConfigurationError: ``pattern`` is not a valid regular expression.
        """
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ConfigurationError(
                f"Rule pattern {pattern!r} for agent {agent!r} is not a valid regular "
                f"expression: {exc}. Escape special characters with re.escape()."
            ) from exc
        rule = Rule(pattern, agent, priority, len(self._rules), compiled)
        self._rules.append(rule)
        self._rules.sort(key=lambda r: (-r.priority, r.order))
        return self

    def prepare(self, setup: RouterSetup) -> None:
        """Check every rule's agent, and spell it as the network does.

        Raises:
            ConfigurationError: a rule names an agent the network does not have.
        """
        self._rules = [
            replace(
                rule,
                agent=known_agent(
                    rule.agent, setup.agents, where=f"RuleBasedRouter rule {rule.pattern!r}"
                ),
            )
            for rule in self._rules
        ]

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """The agent of the first matching rule by priority; no match is no opinion."""
        scores = {agent.name: 0.0 for agent in agents}
        for rule in self._rules:
            if rule.compiled.search(query):
                chosen = match_agent(rule.agent, agents) or rule.agent
                scores[chosen] = 1.0
                return RoutingDecision(
                    agent=chosen,
                    scores=scores,
                    router=self.name,
                    reason=f"rule {rule.pattern!r} (priority {rule.priority}) matched",
                )
        return RoutingDecision(
            agent=None, scores=scores, router=self.name, reason="no rule matched"
        )
