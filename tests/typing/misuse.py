"""Mistakes the type checkers must catch.

Each line below is an error. It carries a ``# type: ignore[...]`` for mypy and a
``# pyright: ignore[...]`` for pyright; both checkers run with unused-ignore reporting
on, so a line that stops being an error (a type that went back to ``Any``, a signature
that lost its shape) fails the check. Never run: it only has to type-check.
"""

from __future__ import annotations

from pydantic import BaseModel

from graph_agents import Agent, Event, RunResult, WorkflowResult, create_network


class Review(BaseModel):
    score: int


def mistakes(event: Event, result: RunResult[Review], done: WorkflowResult[Review]) -> None:
    agents = [Agent("A")]
    # A router function of three parameters is neither shape.
    create_network(agents, router=lambda a, b, c: "A")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType, reportUnknownLambdaType]
    # A request router must return an agent name (or None), not a number.
    create_network(agents, router=lambda state, query: 42)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Results are typed by output_type, not Any.
    parsed: str = result.parsed  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    output: str = done.output  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    # Event data are JSON values, not Any.
    count: int = event.data["count"]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    print(parsed, output, count)
