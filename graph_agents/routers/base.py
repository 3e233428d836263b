"""The routing contract: `Router`, `RoutingDecision`, `RouteContext` and function routers.

There are two kinds of router, told apart by when the network consults them:

- **Request routers** pick the agent for a request (the user's query). Matching routers
  (semantic, rule-based, load-balancing, weighted) and plain functions
  ``f(state, query) -> name | None`` are request routers.
- **Per-turn routers** are consulted before the first turn and after every agent turn,
  and return the next agent, a list of agents to run in parallel, or ``None``/`END` to
  finish. `LLMRouter` and functions taking one `RouteContext` argument are per-turn.

Every router returns a `RoutingDecision`, so routers compose and every decision can be
explained in state, events and traces.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast

from ..agent import Agent
from ..exceptions import ConfigurationError, RoutingError
from ..state import StateView

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from ..models import ModelProvider

__all__ = [
    "END",
    "AgentChoice",
    "FunctionRouter",
    "RequestRouterFunction",
    "RouteContext",
    "Router",
    "RouterLike",
    "RouterSetup",
    "RoutingDecision",
    "TurnChoice",
    "TurnRouter",
    "TurnRouterFunction",
    "as_router",
    "check_decision",
    "known_agent",
    "match_agent",
]

END: Final = "__end__"
"""Returned by a per-turn router to finish the run (``None`` works too)."""


@dataclass(frozen=True, kw_only=True)
class RoutingDecision:
    """Which agent(s) a router chose, and why."""

    agent: str | list[str] | None
    """The chosen agent, several agents to run in parallel, or ``None``: no opinion (a
    request router) or finish (a per-turn router)."""
    scores: dict[str, float] = field(default_factory=dict)
    """A score per agent the router considered; higher is better."""
    reason: str = ""
    """Why, in words: the matching rule, the closest example, the model's reason."""
    router: str = ""
    """The router that decided; filled in by the network when empty."""
    low_confidence: bool = False
    """The best match scored below the router's threshold and there was no fallback."""
    fell_back: bool = False
    """No agent matched well enough, so the request went to a fallback agent."""
    contributions: dict[str, dict[str, float]] = field(default_factory=dict)
    """For composite routers: each member router's weighted scores."""

    @property
    def agents(self) -> list[str]:
        """The chosen agents as a list (empty when none)."""
        if self.agent is None or self.agent == END:
            return []
        return [self.agent] if isinstance(self.agent, str) else list(self.agent)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, as stored in state and sent in ``route.decided`` events."""
        return {
            "agent": self.agent,
            "scores": dict(self.scores),
            "reason": self.reason,
            "router": self.router,
            "low_confidence": self.low_confidence,
            "fell_back": self.fell_back,
            "contributions": {k: dict(v) for k, v in self.contributions.items()},
        }


Probe = Callable[[], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class RouterSetup:
    """What a network tells its router before the first request."""

    agents: Sequence[Agent]
    """The network's agents."""
    provider: ModelProvider | None = None
    """The network's model provider (resolves embedding and model names)."""
    default_model: BaseChatModel | None = None
    """The network's default model, resolved; ``None`` when it has none."""
    probes: Mapping[str, Probe] = field(default_factory=dict)
    """Per agent, a cheap call that raises when its model endpoint is down."""


@dataclass(frozen=True, kw_only=True)
class RouteContext:
    """What a per-turn router sees (AgentKit style)."""

    call_count: int
    """Agent turns taken so far in this run (0 before the first)."""
    last_agent: str | None
    """The agent that took the last turn."""
    last_result: str | None
    """That agent's answer."""
    state: StateView
    """The shared state, read-only."""
    query: str
    """The user's request for this run."""
    agents: Sequence[Agent] = ()
    """The network's agents."""
    messages: Sequence[BaseMessage] = ()
    """The conversation so far."""

    @classmethod
    def first(cls, query: str, agents: Sequence[Agent], state: StateView) -> RouteContext:
        """The context before any agent has taken a turn."""
        return cls(
            call_count=0, last_agent=None, last_result=None, state=state, query=query, agents=agents
        )


class Router(ABC):
    """Base class of routers. Subclasses implement `route`; `decide` is built on it.

    Set ``per_turn = True`` on a subclass to be consulted after every agent turn (with a
    `RouteContext`) instead of once per request.
    """

    per_turn: bool = False
    """Consulted after every turn (``True``) or once per request (``False``)."""

    @property
    def name(self) -> str:
        """The name recorded in decisions; the class name by default."""
        return type(self).__name__

    @abstractmethod
    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """Choose the agent for ``query`` among ``agents``.

        ``context`` is given to per-turn routers. Return a decision whose ``agent`` is
        ``None`` to express no opinion (request routers) or to finish (per-turn routers).
        """

    async def decide(
        self,
        query: str,
        agents: Sequence[Agent],
        state: Mapping[str, Any] | StateView | None = None,
    ) -> RoutingDecision:
        """Route ``query`` the way a network would, without running one.

        Raises:
            RoutingError: the router named an agent that is not in ``agents``.
        """
        view = state if isinstance(state, StateView) else StateView(dict(state or {}))
        context = RouteContext.first(query, agents, view) if self.per_turn else None
        decision = await self.route(query, agents, view, context)
        return check_decision(decision, agents, router=self.name)

    def prepare(self, setup: RouterSetup) -> None:  # noqa: B027 - optional hook
        """Called once by each network that uses the router, before any request.

        Routers that name agents (rules, fallbacks, groups) check the names here, so an
        unknown one fails at ``create_network`` with a `ConfigurationError`.
        """

    def dispatched(self, agent: str) -> None:  # noqa: B027 - optional hook
        """The network started a turn of ``agent`` that this router chose."""

    def released(self, agent: str, *, failed: bool) -> None:  # noqa: B027 - optional hook
        """That turn ended; ``failed`` when it raised."""

    async def warmup(self, agents: Sequence[Agent] = ()) -> None:  # noqa: B027 - optional hook
        """Do the slow first-use work now (load models, embed profiles), so the first
        request is as fast as the rest. ``network.warmup()`` calls it with the network's
        agents; the CLI calls that at start."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most routers hold nothing
        """Release background work (health checks, clients); the network calls it."""


AgentChoice: TypeAlias = str | Agent | None
"""What a request router function returns: an agent (by name), or ``None`` for no opinion."""
TurnChoice: TypeAlias = str | Agent | Sequence[str] | None
"""What a per-turn router function returns: the next agent, agents to run in parallel, or
``None``/`END` to finish."""
RequestRouterFunction: TypeAlias = Callable[[StateView, str], AgentChoice | Awaitable[AgentChoice]]
"""A request router as a function: ``f(state, query)``, sync or async."""
TurnRouterFunction: TypeAlias = Callable[[RouteContext], TurnChoice | Awaitable[TurnChoice]]
"""A per-turn router as a function: ``f(context)``, sync or async."""


class FunctionRouter(Router):
    """A request router from ``f(state, query) -> agent name | None`` (sync or async)."""

    def __init__(self, fn: RequestRouterFunction):
        self._fn = fn
        self._name = getattr(fn, "__name__", type(fn).__name__)

    @property
    def name(self) -> str:
        return self._name

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """Call the function with ``(state, query)``; its answer is the decision."""
        chosen = await _call(self._fn, state, query)
        return RoutingDecision(
            agent=_as_choice(chosen, self._name),
            router=self._name,
            reason=f"{self._name} returned {chosen!r}",
        )


class TurnRouter(FunctionRouter):
    """A per-turn router from ``f(context: RouteContext) -> agent | [agents] | None``."""

    per_turn = True

    def __init__(self, fn: TurnRouterFunction):
        super().__init__(cast(RequestRouterFunction, fn))

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """Call the function with the `RouteContext` (built for the first turn when ``None``)."""
        if context is None:
            context = RouteContext.first(query, agents, state)
        chosen = await _call(self._fn, context)
        return RoutingDecision(
            agent=_as_choice(chosen, self._name),
            router=self._name,
            reason=f"{self._name} returned {chosen!r} after {context.call_count} turns",
        )


RouterLike: TypeAlias = Router | RequestRouterFunction | TurnRouterFunction
"""A `Router`, or a function of either shape (told apart by its number of parameters)."""


def as_router(router: RouterLike) -> Router:
    """Wrap a function as `FunctionRouter` (two parameters) or `TurnRouter` (one).

    Raises:
        ConfigurationError: ``router`` is neither a `Router` nor a function of one or two
            parameters.
    """
    if isinstance(router, Router):
        return router
    if not callable(router):
        raise ConfigurationError(
            f"router {router!r} is not a Router or a function. Pass e.g. SemanticRouter(), "
            "a function f(state, query) -> agent name, or f(context: RouteContext)."
        )
    try:
        params = [
            p
            for p in inspect.signature(router).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Cannot read the signature of router {router!r}.") from exc
    if len(params) == 2:
        return FunctionRouter(cast(RequestRouterFunction, router))
    if len(params) == 1:
        return TurnRouter(cast(TurnRouterFunction, router))
    raise ConfigurationError(
        f"Router function {getattr(router, '__name__', router)!r} takes {len(params)} "
        "required parameters; a request router takes (state, query) and a per-turn router "
        "takes (context: RouteContext)."
    )


def match_agent(name: str, agents: Sequence[Agent]) -> str | None:
    """The name of the agent called ``name``, ignoring case; ``None`` when there is none.

    Agent names match case-insensitively everywhere: in routers, handoffs, workflows and
    state routers. A network refuses two agents whose names differ only in case.
    """
    if not isinstance(name, str):
        return None
    for agent in agents:
        if agent.name == name:
            return agent.name
    folded = name.casefold()
    for agent in agents:
        if agent.name.casefold() == folded:
            return agent.name
    return None


def known_agent(name: str, agents: Sequence[Agent], *, where: str) -> str:
    """`match_agent`, for names given in a definition: ``where`` names the definition.

    Raises:
        ConfigurationError: no agent is called ``name``.
    """
    found = match_agent(name, agents)
    if found is None:
        listing = ", ".join(repr(a.name) for a in agents)
        raise ConfigurationError(
            f"{where} names unknown agent {name!r}; known agents: {listing}. Use one of these "
            "names (they match case-insensitively)."
        )
    return found


def check_decision(
    decision: RoutingDecision, agents: Sequence[Agent], *, router: str
) -> RoutingDecision:
    """Return ``decision`` with its agents' names as the agents spell them.

    Raises:
        RoutingError: ``decision`` names an agent not in ``agents``.
    """
    canonical: list[str] = []
    for name in decision.agents:
        found = match_agent(name, agents)
        if found is None:
            listing = ", ".join(repr(a.name) for a in agents)
            raise RoutingError(
                f"Router {router!r} chose unknown agent {name!r}; known agents: {listing}. "
                "Fix the router so it returns one of these names."
            )
        canonical.append(found)
    if not canonical:
        return decision
    agent: str | list[str] = canonical[0] if isinstance(decision.agent, str) else canonical
    return replace(decision, agent=agent)


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004
    ):
        return await fn(*args)
    result = fn(*args)
    if inspect.isawaitable(result):
        return await result
    return result


def _as_choice(chosen: Any, router: str) -> str | list[str] | None:
    if chosen is None or chosen == END:
        return None
    if isinstance(chosen, str):
        return chosen
    if isinstance(chosen, Sequence) and all(isinstance(c, str) for c in chosen):
        return list(chosen) or None
    if isinstance(chosen, Agent):
        return chosen.name
    raise RoutingError(
        f"Router {router!r} returned {chosen!r}; return an agent name, a list of agent "
        "names, or None/END to finish."
    )
