"""`RoutingStrategy`: a weighted combination of request routers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from .base import RouteContext, Router, RouterLike, RouterSetup, RoutingDecision, as_router

if TYPE_CHECKING:
    from ..agent import Agent
    from ..state import StateView

__all__ = ["RoutingStrategy"]


class RoutingStrategy(Router):
    """Combine request routers: the weighted sum of their scores decides.

    Weights are normalised to sum to 1. Each member is asked concurrently; a member with
    no opinion (its decision names no agent) contributes nothing. A member whose decision
    carries no scores counts 1.0 for the agent it chose. The agent with the highest total
    wins; ties go to the agent listed first in the network. The decision records each
    member's weighted contribution.

    Raises:
        ConfigurationError: no members, a weight that is not positive, or a per-turn member.
    """

    def __init__(self, routers: Sequence[tuple[RouterLike, float]]):
        if not routers:
            raise ConfigurationError(
                "RoutingStrategy([]) has no routers; pass (router, weight) pairs."
            )
        members: list[tuple[str, Router, float]] = []
        total = 0.0
        for index, (router_like, weight) in enumerate(routers):
            router = as_router(router_like)
            if weight <= 0:
                raise ConfigurationError(
                    f"RoutingStrategy: weight {weight!r} of {router.name!r} must be positive."
                )
            if router.per_turn:
                raise ConfigurationError(
                    f"RoutingStrategy: {router.name!r} is a per-turn router; only request "
                    "routers can be weighted together."
                )
            label = router.name
            if any(existing == label for existing, _, _ in members):
                label = f"{label}#{index}"
            members.append((label, router, float(weight)))
            total += weight
        self.members = [(label, router, weight / total) for label, router, weight in members]

    def prepare(self, setup: RouterSetup) -> None:
        for _, router, _ in self.members:
            router.prepare(setup)

    def dispatched(self, agent: str) -> None:
        for _, router, _ in self.members:
            router.dispatched(agent)

    def released(self, agent: str, *, failed: bool) -> None:
        for _, router, _ in self.members:
            router.released(agent, failed=failed)

    async def aclose(self) -> None:
        for _, router, _ in self.members:
            await router.aclose()

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        decisions = await asyncio.gather(
            *(router.route(query, agents, state, None) for _, router, _ in self.members)
        )
        totals = {agent.name: 0.0 for agent in agents}
        contributions: dict[str, dict[str, float]] = {}
        reasons: list[str] = []
        for (label, _, weight), decision in zip(self.members, decisions, strict=True):
            if not decision.agents:
                contributions[label] = {}
                reasons.append(f"{label}: no opinion")
                continue
            raw = decision.scores or {name: 1.0 for name in decision.agents}
            weighted = {name: weight * score for name, score in raw.items()}
            contributions[label] = weighted
            for name, value in weighted.items():
                totals[name] = totals.get(name, 0.0) + value
            reasons.append(f"{label} (weight {weight:.2f}): {decision.reason}")
        if not any(contributions.values()):
            return RoutingDecision(
                agent=None,
                scores=totals,
                contributions=contributions,
                reason="; ".join(reasons),
                router=self.name,
            )
        best = max(totals, key=lambda name: totals[name])
        return RoutingDecision(
            agent=best,
            scores=totals,
            contributions=contributions,
            router=self.name,
            reason=f"{best!r} scored {totals[best]:.3f}; " + "; ".join(reasons),
        )
