"""`RoutingStrategy`: a weighted combination of request routers."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from .base import (
    RouteContext,
    Router,
    RouterLike,
    RouterSetup,
    RoutingDecision,
    as_router,
    known_agent,
)

if TYPE_CHECKING:
    from ..agent import Agent
    from ..state import StateView

__all__ = ["RoutingStrategy"]


class RoutingStrategy(Router):
    """Combine request routers: the weighted sum of their confident scores decides.

    Weights are normalised to sum to 1, and every member is asked concurrently. Each
    member's decision is one of three kinds:

    - **no opinion** (it names no agent): it contributes nothing;
    - **weak** (it is ``low_confidence``, or it ``fell_back`` to its fallback agent):
      it counts only when no member is confident;
    - **confident** (anything else): its scores, times its weight, are added up. A
      decision without scores counts 1.0 for the agent it chose.

    Then, in order:

    1. Some member is confident: the agent with the highest total wins (ties go to the
       agent listed first in the network).
    2. Only weak members: this router's ``fallback`` when given; else the fallback of
       the heaviest member that fell back; else the best total of the weak members,
       marked ``low_confidence`` (a network with ``fallback=`` then uses its own).
    3. No member has an opinion: this router's ``fallback`` when given, else no opinion
       (the network's fallback applies, or `RoutingError`).

    ``decision.contributions`` holds each member's counted weighted scores, and the
    reason spells out the winner's total as the sum of the members' shares.

    Args:
        routers: ``(router, weight)`` pairs; routers may be functions ``f(state, query)``.
        fallback: The agent for requests no member is confident about.

    Raises:
        ConfigurationError: no members, a weight that is not a positive finite number, or
            a per-turn member.
    """

    def __init__(self, routers: Sequence[tuple[RouterLike, float]], *, fallback: str | None = None):
        if not routers:
            raise ConfigurationError(
                "RoutingStrategy([]) has no routers; pass (router, weight) pairs."
            )
        members: list[tuple[str, Router, float]] = []
        total = 0.0
        for index, (router_like, weight) in enumerate(routers):
            router = as_router(router_like)
            if (
                isinstance(weight, bool)
                or not isinstance(weight, (int, float))
                or not math.isfinite(weight)
                or weight <= 0
            ):
                raise ConfigurationError(
                    f"RoutingStrategy: weight {weight!r} of {router.name!r} must be a positive "
                    "number, e.g. 0.8."
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
        self.members: list[tuple[str, Router, float]] = [
            (label, router, weight / total) for label, router, weight in members
        ]
        self.fallback: str | None = fallback

    def prepare(self, setup: RouterSetup) -> None:
        """Prepare every member, and check this router's fallback.

        Raises:
            ConfigurationError: a member or ``fallback`` names an unknown agent.
        """
        for _, router, _ in self.members:
            router.prepare(setup)
        if self.fallback is not None:
            self.fallback = known_agent(
                self.fallback, setup.agents, where="RoutingStrategy(fallback=...)"
            )

    def dispatched(self, agent: str) -> None:
        """Tell every member that a turn of ``agent`` started."""
        for _, router, _ in self.members:
            router.dispatched(agent)

    def released(self, agent: str, *, failed: bool) -> None:
        """Tell every member that a turn of ``agent`` ended."""
        for _, router, _ in self.members:
            router.released(agent, failed=failed)

    async def warmup(self, agents: Sequence[Agent] = ()) -> None:
        """Warm every member up."""
        await asyncio.gather(*(router.warmup(agents) for _, router, _ in self.members))

    async def aclose(self) -> None:
        """Close every member."""
        for _, router, _ in self.members:
            await router.aclose()

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """Ask every member concurrently and combine their decisions (see the class docstring)."""
        decisions = await asyncio.gather(
            *(router.route(query, agents, state, None) for _, router, _ in self.members)
        )
        members = [
            (label, weight, decision)
            for (label, _, weight), decision in zip(self.members, decisions, strict=True)
        ]
        confident = [m for m in members if m[2].agents and not _weak(m[2])]
        weak = [m for m in members if m[2].agents and _weak(m[2])]
        counted = confident or weak
        totals = {agent.name: 0.0 for agent in agents}
        contributions: dict[str, dict[str, float]] = {label: {} for label, _, _ in members}
        for label, weight, decision in counted:
            raw = decision.scores or {name: 1.0 for name in decision.agents}
            weighted = {name: weight * score for name, score in raw.items()}
            contributions[label] = weighted
            for name, value in weighted.items():
                totals[name] = totals.get(name, 0.0) + value
        explained = "; ".join(
            _explain(label, weight, decision) for label, weight, decision in members
        )
        result = RoutingDecision(
            agent=None, scores=totals, contributions=contributions, router=self.name
        )
        if confident:
            best = max(totals, key=lambda name: totals[name])
            return replace(
                result, agent=best, reason=f"{_sum(best, totals, contributions)}; {explained}"
            )
        fell_back = [m for m in weak if m[2].fell_back]
        if self.fallback is not None:
            why = "no member is confident" if weak else "no member has an opinion"
            return replace(
                result,
                agent=self.fallback,
                fell_back=True,
                reason=f"{why}; fell back to {self.fallback!r}; {explained}",
            )
        if fell_back:
            label, _, decision = max(fell_back, key=lambda m: m[1])
            return replace(
                result,
                agent=decision.agent,
                fell_back=True,
                reason=f"no member is confident; used the fallback of {label}; {explained}",
            )
        if weak:
            best = max(totals, key=lambda name: totals[name])
            return replace(
                result,
                agent=best,
                low_confidence=True,
                reason=f"no member is confident; {_sum(best, totals, contributions)}; {explained}",
            )
        return replace(result, reason=explained)


def _weak(decision: RoutingDecision) -> bool:
    return decision.low_confidence or decision.fell_back


def _explain(label: str, weight: float, decision: RoutingDecision) -> str:
    if not decision.agents:
        return f"{label}: no opinion"
    kind = " (weak)" if _weak(decision) else ""
    return f"{label} (weight {weight:.2f}){kind}: {decision.reason}"


def _sum(best: str, totals: dict[str, float], contributions: dict[str, dict[str, float]]) -> str:
    shares = " + ".join(
        f"{label} {scores[best]:.3f}" for label, scores in contributions.items() if best in scores
    )
    return f"{best!r} scored {totals[best]:.3f} ({shares})"
