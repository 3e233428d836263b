"""Routers: who handles a request, or who takes the next turn.

See `graph_agents.routers.base` for the two kinds of router and the decision they return.

- `SemanticRouter`: embedding similarity to each agent's description and examples.
- `RuleBasedRouter`: case-insensitive regular expressions, first match by priority.
- `LoadBalancingRouter`: round robin, least loaded or random over healthy agents.
- `RoutingStrategy`: a weighted sum of request routers' scores.
- `LLMRouter`: a model picks the next agent after every turn, or finishes.
"""

from .base import (
    END,
    FunctionRouter,
    RequestRouterFunction,
    RouteContext,
    Router,
    RouterLike,
    RouterSetup,
    RoutingDecision,
    TurnRouter,
    TurnRouterFunction,
    as_router,
)
from .composite import RoutingStrategy
from .llm import LLMRouter
from .load_balancing import LoadBalancingRouter
from .rules import RuleBasedRouter
from .semantic import AdaptReport, FitReport, SemanticRouter

__all__ = [
    "END",
    "AdaptReport",
    "FitReport",
    "FunctionRouter",
    "LLMRouter",
    "LoadBalancingRouter",
    "RequestRouterFunction",
    "RouteContext",
    "Router",
    "RouterLike",
    "RouterSetup",
    "RoutingDecision",
    "RoutingStrategy",
    "RuleBasedRouter",
    "SemanticRouter",
    "TurnRouter",
    "TurnRouterFunction",
    "as_router",
]
