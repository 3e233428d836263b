"""Every router on one small support team.

    python examples/routing_example.py

Offline it uses scripted agents and the local MiniLM embeddings (the ``local`` extra);
with OPENAI_API_KEY / OPENAI_BASE_URL set, the agents and the LLM router call that
endpoint (model GRAPH_AGENTS_MODEL, default gpt-4o-mini).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from graph_agents import Agent, RouteContext, create_network
from graph_agents.routers import (
    LLMRouter,
    LoadBalancingRouter,
    RoutingStrategy,
    RuleBasedRouter,
    SemanticRouter,
)
from graph_agents.testing import ScriptedModel, ToolCall

REAL = bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))
MODEL = os.environ.get("GRAPH_AGENTS_MODEL", "gpt-4o-mini")


def model(reply: str) -> Any:
    """The agent's model: the real one when configured, else a scripted reply."""
    return None if REAL else ScriptedModel(responder=lambda messages: reply)


def team() -> list[Agent]:
    return [
        Agent(
            "Billing",
            "You answer billing questions in one sentence.",
            description="Invoices, refunds, payments and charges.",
            examples=["I was charged twice", "Where is my refund?"],
            model=model("Billing: your refund is on its way."),
        ),
        Agent(
            "Tech",
            "You fix technical problems in one sentence.",
            description="Login problems, crashes, errors and bugs.",
            examples=["The app crashes on start", "I can't log in"],
            model=model("Tech: clear the cache and sign in again."),
        ),
        Agent(
            "Helpdesk",
            "You answer anything else in one sentence.",
            description="General questions no specialist handles.",
            model=model("Helpdesk: happy to help with that."),
        ),
    ]


async def show(title: str, router: Any, queries: list[str], **options: Any) -> None:
    network = create_network(
        agents=team(), router=router, default_model=MODEL if REAL else None, **options
    )
    print(f"\n== {title}")
    async with network:
        for query in queries:
            result = await network.run(query)
            decision = result.routes[0]
            print(f"{query!r:42} -> {' -> '.join(result.agent_path):10} ({decision['reason']})")


async def main() -> None:
    queries = [
        "Why was I billed two times?",
        "The app shows error 500",
        "What are your opening hours?",
    ]

    await show(
        "SemanticRouter: meaning, with a fallback below the threshold",
        SemanticRouter("local", fallback="Helpdesk"),
        queries,
    )

    # adapt(): fine-tune a private copy of MiniLM on the agents' examples (seconds here).
    adapted = SemanticRouter("local", fallback="Helpdesk")
    report = await adapted.adapt(team(), epochs=3)
    await show(
        f"SemanticRouter after adapt(): {report.steps} training steps on "
        f"{report.examples} examples",
        adapted,
        queries,
    )

    rules = RuleBasedRouter()
    rules.add_rule(r"bill|refund|charge", "Billing")
    rules.add_rule(r"error|crash|log ?in", "Tech")
    rules.add_rule(r"urgent", "Tech", priority=10)
    await show(
        "RuleBasedRouter: first match by priority",
        rules,
        [*queries, "urgent: refund me"],
        fallback="Helpdesk",
    )

    await show(
        "LoadBalancingRouter: round robin over replicas",
        LoadBalancingRouter("round_robin", health_check_interval=0, agents=["Billing", "Tech"]),
        queries,
    )

    await show(
        "RoutingStrategy: 70% rules + 30% semantic",
        RoutingStrategy([(rules, 0.7), (SemanticRouter("local"), 0.3)]),
        queries,
    )

    def two_specialists(context: RouteContext) -> str | None:
        return ["Tech", "Billing"][context.call_count] if context.call_count < 2 else None

    await show(
        "Per-turn function router: Tech, then Billing, then done", two_specialists, queries[:1]
    )

    llm = LLMRouter(
        None
        if REAL
        else ScriptedModel(
            [
                ToolCall("select_agent", {"name": "Billing", "reason": "a billing question"}),
                ToolCall("done", {"summary": "answered"}),
            ]
        )
    )
    await show("LLMRouter: a model picks each turn", llm, queries[:1])


if __name__ == "__main__":
    asyncio.run(main())
