"""A second process for the workflow resume test.

Usage: python workflow_worker.py <sqlite|postgres> <path-or-dsn> <thread_id>
Resumes the thread with working models and prints JSON: the path, and how many model
calls each agent made in this process.
"""

from __future__ import annotations

import asyncio
import json
import sys

from graph_agents import (
    Agent,
    ModelProviderError,
    PostgresStateStore,
    SqliteStateStore,
    Step,
    Workflow,
    create_workflow,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse


def build(
    kind: str, where: str, *, reviewer_fails: bool
) -> tuple[Workflow, dict[str, ScriptedModel]]:
    models = {
        "Researcher": ScriptedModel(responder=lambda m: "facts"),
        "Writer": ScriptedModel(responder=lambda m: "draft"),
        "Reviewer": ScriptedModel(
            responder=lambda m: (
                ScriptedResponse(error=ModelProviderError("Model 'review' is unreachable."))
                if reviewer_fails
                else "looks good"
            )
        ),
        "Editor": ScriptedModel(responder=lambda m: "final text"),
    }
    store = SqliteStateStore(where) if kind == "sqlite" else PostgresStateStore(where)
    workflow = create_workflow(
        "resumable",
        [Agent(name, f"You are the {name}.", model=model) for name, model in models.items()],
        steps=[
            Step.agent("researcher", "Research {topic}"),
            Step.parallel(
                [
                    Step.agent("writer", "Write part A", output_key="a"),
                    Step.agent("writer", "Write part B", output_key="b"),
                ]
            ),
            Step.agent("reviewer", "Review it", output_key="review"),
            Step.agent("editor", "Edit it"),
        ],
        state_store=store,
    )
    return workflow, models


async def main() -> None:
    kind, where, thread = sys.argv[1:4]
    workflow, models = build(kind, where, reviewer_fails=False)
    async with workflow:
        result = await workflow.resume(thread)
    print(
        json.dumps(
            {
                "path": result.path,
                "output": result.output,
                "calls": {name: len(m.calls) for name, m in models.items()},
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
