"""Routers: who handles a request, or who takes the next turn.

See `graph_agents.routers.base` for the two kinds of router and the decision they return.
"""

from .base import (
    END,
    FunctionRouter,
    RouteContext,
    Router,
    RouterLike,
    RoutingDecision,
    TurnRouter,
    as_router,
)
from .semantic import SemanticRouter

__all__ = [
    "END",
    "FunctionRouter",
    "RouteContext",
    "Router",
    "RouterLike",
    "RoutingDecision",
    "SemanticRouter",
    "TurnRouter",
    "as_router",
]
