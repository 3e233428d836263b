"""The seed document's workflow: research, parallel writing, review, revise or approve.

    python examples/workflow_example.py

With OPENAI_API_KEY / OPENAI_BASE_URL set it runs on that endpoint (GRAPH_AGENTS_MODEL,
default gpt-4o-mini). Without them it starts graph_agents' OpenAI-compatible stub server
on loopback, scripted below, so the same code runs offline through the real HTTP client.
The one change from the seed: the reviewer step declares ``output_type=Review``, which
is what puts ``review_score`` into the state the condition reads.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from pydantic import BaseModel

from graph_agents import Agent, Step, create_workflow

MODEL = os.environ.get("GRAPH_AGENTS_MODEL", "gpt-4o-mini")


class Review(BaseModel):
    review_score: int
    feedback: str


async def main(topic: str = "AI Safety") -> Any:
    researcher = Agent(
        name="Researcher", instructions="You search and analyze information from various sources."
    )
    writer = Agent(
        name="Writer", instructions="You create well-structured content based on research."
    )
    reviewer = Agent(
        name="Reviewer",
        instructions="You review content for accuracy and quality. Score it from 1 to 10.",
    )

    workflow = create_workflow(
        name="Research and Write",
        agents=[researcher, writer, reviewer],
        steps=[
            Step.agent("researcher", "Research {topic}"),
            Step.parallel(
                [
                    Step.agent("writer", "Write introduction"),
                    Step.agent("writer", "Write main content"),
                ]
            ),
            Step.agent("reviewer", "Review complete document", output_type=Review),
            Step.conditional(
                condition=lambda state: state.get("review_score") < 8,
                true_step=Step.agent("writer", "Revise based on feedback"),
                false_step=Step.transform(lambda x: {"status": "approved", "content": x}),
            ),
        ],
        default_model=MODEL,
    )

    result = await workflow.run({"topic": topic})
    print("path:  ", " -> ".join(result.path))
    print("review:", result.outputs["s3_reviewer"])
    print("output:", result.output)
    return result


# --- Offline stand-in for a real endpoint --------------------------------------------------


def scripted_endpoint(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    task = body["messages"][-1]["content"].splitlines()[0]
    if system.startswith("You search"):
        return "AI safety studies alignment, robustness and oversight of AI systems."
    if system.startswith("You review"):
        return '{"review_score": 7, "feedback": "Add concrete examples of oversight."}'
    return f"[{task}] A clear, well-structured section on AI safety."


if __name__ == "__main__":
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        asyncio.run(main())
    else:
        from graph_agents.testing import OpenAIStubServer

        with OpenAIStubServer(responder=scripted_endpoint) as stub:
            os.environ.update(OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="offline")
            asyncio.run(main())
