"""`RunContext`: the per-run objects nodes receive through LangGraph's runtime context."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..events import _Emitter
from ..routers.base import Router

__all__ = ["RunContext", "TurnTracker"]


class TurnTracker:
    """Tells the router when the turns it dispatched end, so in-flight counts stay true.

    Turns still open when a run ends are released by `release_open`.
    """

    def __init__(self, router: Router):
        self._router = router
        self._open: Counter[str] = Counter()

    def dispatch(self, agent: str) -> None:
        """Count a turn of ``agent`` as started, and tell the router."""
        self._open[agent] += 1
        self._router.dispatched(agent)

    def finish(self, agent: str) -> None:
        """Count a turn of ``agent`` as ended (if one is open), and tell the router."""
        if self._open[agent] > 0:
            self._open[agent] -= 1
            self._router.released(agent, failed=False)

    def release_open(self, *, failed: bool) -> None:
        """Release every turn still open, e.g. when the run failed mid-turn."""
        for agent, count in list(self._open.items()):
            for _ in range(count):
                self._router.released(agent, failed=failed)
        self._open.clear()


@dataclass(frozen=True)
class RunContext:
    """What one run hands to every node; never checkpointed."""

    emitter: _Emitter
    """Where the run's events go."""
    max_iterations: int
    """The most agent turns this scope may take (a delegation gets what is left)."""
    depth: int = 0
    """0 for the run itself; 1 inside a delegation, 2 inside a delegation's delegation."""
    max_depth: int = 3
    """The deepest delegation allowed."""
    turns: TurnTracker | None = field(default=None)
    """Reports turn ends to the router; ``None`` without a router."""
