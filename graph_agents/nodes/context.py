"""`RunContext`: the per-run objects nodes receive through LangGraph's runtime context."""

from __future__ import annotations

from dataclasses import dataclass

from ..events import _Emitter

__all__ = ["RunContext"]


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
