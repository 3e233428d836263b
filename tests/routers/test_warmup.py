"""Local routing is quiet (no progress bars in library use) and can be warmed up."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from graph_agents import Agent, create_network
from graph_agents.routers import RoutingStrategy, RuleBasedRouter, SemanticRouter
from graph_agents.testing import ScriptedModel

from .test_semantic import AGENTS, KeywordEmbeddings

ROUTE_LOCALLY = textwrap.dedent(
    """
    import asyncio, sys
    from graph_agents import Agent
    from graph_agents import embeddings
    from graph_agents.routers import SemanticRouter

    embeddings.PROGRESS = sys.argv[1] == "progress"
    agents = [Agent("Billing", "Invoices and refunds."), Agent("Tech", "Bugs and crashes.")]
    decision = asyncio.run(SemanticRouter("local").decide("my invoice is wrong", agents))
    print(decision.agent)
    """
)


def route_in_subprocess(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ROUTE_LOCALLY, mode],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def test_local_routing_prints_nothing_but_the_cli_shows_progress() -> None:
    quiet = route_in_subprocess("quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "Billing\n", "")
    shown = route_in_subprocess("progress")
    assert shown.returncode == 0
    assert "Loading weights" in shown.stderr


async def test_warmup_embeds_profiles_once_so_the_first_request_embeds_only_itself() -> None:
    embeddings = KeywordEmbeddings()
    router = SemanticRouter(embeddings)
    network = create_network(
        agents=[
            Agent(a.name, a.instructions, examples=a.examples, model=ScriptedModel(["ok"]))
            for a in AGENTS
        ],
        router=RoutingStrategy([(router, 1.0), (RuleBasedRouter(), 1.0)]),
    )
    await network.warmup()
    assert embeddings.documents == [
        "You search sources.",
        "search the archives",
        "You write prose.",
        "You review drafts.",
        "warm up",
    ]
    result = await network.run("please review this")
    assert result.agent_path == ["Reviewer"]
    assert embeddings.documents[5:] == ["please review this"]


async def test_warmup_without_agents_only_resolves_the_model() -> None:
    embeddings = KeywordEmbeddings()
    router = SemanticRouter(embeddings)
    await router.warmup()
    assert embeddings.documents == []
    assert router.embeddings is embeddings
