"""`LoadBalancingRouter`: spread requests over equivalent agents, skipping unhealthy ones."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Literal, get_args

from .._checks import check_int, check_number
from ..exceptions import ConfigurationError, RoutingError
from .base import Probe, RouteContext, Router, RouterSetup, RoutingDecision, known_agent

if TYPE_CHECKING:
    from ..agent import Agent
    from ..state import StateView

__all__ = ["HealthCheck", "LoadBalancingRouter", "Strategy"]

logger: logging.Logger = logging.getLogger("graph_agents.routers")

Strategy = Literal["round_robin", "least_loaded", "random"]
HealthCheck = Callable[[str], "Awaitable[bool] | bool"]


class LoadBalancingRouter(Router):
    """Distribute requests over a group of equivalent agents.

    Strategies:
        - ``round_robin``: the candidates in turn, starting with the first.
        - ``least_loaded``: the candidate with the fewest in-flight turns (counted from
          dispatch until the turn ends, failed turns included); ties go to the first.
        - ``random``: uniformly at random, reproducible with ``seed``.

    Health: every ``health_check_interval`` seconds a background task (never the request
    path) checks each candidate: ``health_check(agent)`` when given, else a ping of the
    agent's model endpoint. ``failure_threshold`` consecutive failed turns also mark an
    agent unhealthy. Unhealthy agents are skipped until a check passes; an agent without
    any check is given another chance at the next interval. When every candidate is
    unhealthy, routing raises `RoutingError` with the reasons. The task stops when the
    network closes.

    Args:
        strategy: How to pick among healthy candidates.
        health_check_interval: Seconds between active checks; ``0`` disables them.
        agents: The candidate group (agent names); all of the network's agents when ``None``.
        seed: Seed of the ``random`` strategy.
        failure_threshold: Consecutive failed turns that mark an agent unhealthy.
        health_check: ``(agent name) -> bool`` (sync or async) replacing the endpoint ping.

    Raises:
        ConfigurationError: an unknown strategy, a negative interval or a threshold below 1.
    """

    def __init__(
        self,
        strategy: Strategy = "round_robin",
        health_check_interval: float = 30,
        *,
        agents: Sequence[str] | None = None,
        seed: int | None = None,
        failure_threshold: int = 3,
        health_check: HealthCheck | None = None,
    ):
        if strategy not in get_args(Strategy):
            choices = ", ".join(repr(c) for c in get_args(Strategy))
            raise ConfigurationError(
                f"LoadBalancingRouter: unknown strategy {strategy!r}; choose one of {choices}."
            )
        check_number(
            health_check_interval,
            "health_check_interval",
            minimum=0,
            owner="LoadBalancingRouter: ",
            meaning=" It is in seconds; 0 turns the checks off.",
        )
        check_int(failure_threshold, "failure_threshold", minimum=1, owner="LoadBalancingRouter: ")
        self.strategy: Strategy = strategy
        self.health_check_interval = health_check_interval
        self.group = list(agents) if agents is not None else None
        self.failure_threshold = failure_threshold
        self._health_check = health_check
        self._rng = random.Random(seed)
        self._next = 0
        self._in_flight: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._unhealthy: dict[str, str] = {}
        self._probes: dict[str, Probe] = {}
        self._candidates: list[str] = []
        self._checker: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> dict[str, int]:
        """In-flight turns per agent."""
        return {name: count for name, count in self._in_flight.items() if count}

    @property
    def unhealthy(self) -> dict[str, str]:
        """Unhealthy agents and why."""
        return dict(self._unhealthy)

    def prepare(self, setup: RouterSetup) -> None:
        """Keep the agents' endpoint probes, and check the group's names against the network."""
        self._probes = dict(setup.probes)
        if self.group is not None:
            self.group = [
                known_agent(name, setup.agents, where="LoadBalancingRouter(agents=...)")
                for name in self.group
            ]

    def dispatched(self, agent: str) -> None:
        """Count a turn of ``agent`` as in flight."""
        self._in_flight[agent] += 1

    def released(self, agent: str, *, failed: bool) -> None:
        """End an in-flight turn; ``failure_threshold`` failures in a row make it unhealthy."""
        if self._in_flight[agent] > 0:
            self._in_flight[agent] -= 1
        if not failed:
            self._failures[agent] = 0
            return
        self._failures[agent] += 1
        if self._failures[agent] >= self.failure_threshold:
            self._mark(agent, f"{self._failures[agent]} consecutive failed turns")

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """Pick a healthy candidate by the strategy (and start the health checks)."""
        candidates = self.group or [agent.name for agent in agents]
        self._candidates = candidates
        self._start_checker()
        healthy = [name for name in candidates if name not in self._unhealthy]
        if not healthy:
            reasons = "; ".join(f"{name!r}: {self._unhealthy[name]}" for name in candidates)
            raise RoutingError(
                f"LoadBalancingRouter: every candidate is unhealthy ({reasons}). Check the "
                "agents' model endpoints; they return after a passing health check."
            )
        if self.strategy == "round_robin":
            chosen = self._round_robin(candidates)
            scores = {name: 1.0 if name == chosen else 0.0 for name in candidates}
            reason = f"round robin over {len(healthy)} healthy of {len(candidates)}"
        elif self.strategy == "least_loaded":
            chosen = min(healthy, key=lambda name: (self._in_flight[name], candidates.index(name)))
            scores = {name: -float(self._in_flight[name]) for name in healthy}
            reason = f"least loaded: {self._in_flight[chosen]} in flight"
        else:
            chosen = self._rng.choice(healthy)
            scores = {name: 1.0 if name == chosen else 0.0 for name in candidates}
            reason = f"random among {len(healthy)} healthy"
        return RoutingDecision(agent=chosen, scores=scores, reason=reason, router=self.name)

    def _round_robin(self, candidates: list[str]) -> str:
        for _ in range(len(candidates)):
            name = candidates[self._next % len(candidates)]
            self._next += 1
            if name not in self._unhealthy:
                return name
        raise AssertionError("no healthy candidate")  # route() checked there is one

    def _mark(self, agent: str, reason: str) -> None:
        if agent not in self._unhealthy:
            logger.warning("Agent %r is unhealthy: %s", agent, reason)
        self._unhealthy[agent] = reason

    def _restore(self, agent: str) -> None:
        if self._unhealthy.pop(agent, None) is not None:
            logger.info("Agent %r is healthy again", agent)
        self._failures[agent] = 0

    def _start_checker(self) -> None:
        if self._checker is None and self.health_check_interval > 0:
            self._checker = asyncio.get_running_loop().create_task(self._check_forever())

    async def check_health(self) -> None:
        """Check every candidate once (what the background task does each interval)."""
        await asyncio.gather(*(self._check(name) for name in self._candidates))

    async def _check(self, agent: str) -> None:
        try:
            if self._health_check is not None:
                outcome = self._health_check(agent)
                healthy = await outcome if inspect.isawaitable(outcome) else outcome
                reason = "health check returned False"
            elif (probe := self._probes.get(agent)) is not None:
                await asyncio.wait_for(probe(), timeout=max(self.health_check_interval, 1.0))
                healthy, reason = True, ""
            else:
                # Nothing to ask: give a passively failed agent another chance.
                healthy, reason = True, ""
        except Exception as exc:
            healthy, reason = False, f"health check failed: {type(exc).__name__}: {exc}"
        if healthy:
            self._restore(agent)
        else:
            self._mark(agent, reason)

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.health_check_interval)
            await self.check_health()

    async def aclose(self) -> None:
        """Stop the background health checks."""
        checker, self._checker = self._checker, None
        if checker is not None:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
