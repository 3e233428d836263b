"""`SemanticRouter.adapt`: few-shot fine-tuning of the local MiniLM on agent examples."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from graph_agents import Agent, ConfigurationError
from graph_agents.embeddings import LocalEmbeddings
from graph_agents.routers import AdaptReport, SemanticRouter

from .test_semantic import AGENTS, KeywordEmbeddings

BILLING = {
    "refunds": ["where is my refund", "I want my money back", "refund the duplicate charge"],
    "invoices": ["send me last month's invoice", "my invoice is wrong", "download my bill"],
}
TRAVEL = {
    "flights": ["book a flight to Lisbon", "change my flight to Friday", "cheapest fare to Rome"],
    "hotels": ["I need a hotel in Oslo", "cancel my room booking", "a hotel near the station"],
}
CLUSTER_AGENTS = [
    Agent("Billing", "Invoices, refunds and charges.", examples=BILLING),
    Agent("Travel", "Flights and hotels.", examples=TRAVEL),
    Agent("Helpdesk", "Anything else."),
]
PROBE = "can I get a refund for the hotel"


def _vectors(embeddings: LocalEmbeddings, texts: list[str]) -> np.ndarray:
    return np.asarray(embeddings.embed_documents(texts))


def _separation(embeddings: LocalEmbeddings) -> float:
    """Mean similarity within an agent's examples minus mean similarity across agents."""
    billing = _vectors(embeddings, [t for group in BILLING.values() for t in group])
    travel = _vectors(embeddings, [t for group in TRAVEL.values() for t in group])
    within = np.mean([(billing @ billing.T).mean(), (travel @ travel.T).mean()])
    return float(within - (billing @ travel.T).mean())


async def test_adapt_trains_a_private_copy_that_separates_the_agents(tmp_path: Path) -> None:
    shared = LocalEmbeddings()
    shared_before = shared.embed_query(PROBE)
    router = SemanticRouter("local", similarity_threshold=0.0)
    before = await router.decide(PROBE, CLUSTER_AGENTS)
    base_separation = _separation(shared)

    report = await router.adapt(CLUSTER_AGENTS, epochs=2, batch_size=4, seed=7)

    # Four named clusters of three requests; the description-only agent adds no class.
    # Each epoch is three batches of one pair per cluster.
    assert isinstance(report, AdaptReport)
    assert (report.classes, report.examples, report.epochs, report.steps) == (4, 12, 2, 6)
    assert report.loss > 0
    adapted = router.embeddings
    assert isinstance(adapted, LocalEmbeddings)
    assert adapted.model is not shared.model
    assert _separation(adapted) > base_separation + 0.05
    # The shared "local" model is untouched.
    assert shared.embed_query(PROBE) == shared_before
    # Profiles are re-embedded with the adapted model on the next decision.
    after = await router.decide(PROBE, CLUSTER_AGENTS)
    assert after.scores != before.scores

    # The same seed gives the same model.
    again = SemanticRouter("local")
    await again.adapt(CLUSTER_AGENTS, epochs=2, batch_size=4, seed=7)
    assert np.allclose(_vectors(again.embeddings, [PROBE]), _vectors(adapted, [PROBE]), atol=1e-5)  # type: ignore[arg-type]

    # Saved and reloaded, it embeds and routes identically, and keeps what adapt() did.
    path = router.save(tmp_path / "adapted")
    assert LocalEmbeddings(path).settings == {
        "adapt": dataclasses.asdict(report),
        "similarity_threshold": 0.0,
    }
    reloaded = SemanticRouter.load(path)
    assert reloaded.similarity_threshold == 0.0
    decision = await reloaded.decide(PROBE, CLUSTER_AGENTS)
    assert decision.agent == after.agent
    assert decision.scores == pytest.approx(after.scores, abs=1e-5)


async def test_adapt_errors_name_the_problem_and_the_fix() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"adapt\(\) fine-tunes a local sentence-transformers model, but this router "
        r"embeds with KeywordEmbeddings \(model=<.*>\), which cannot be trained here\. "
        r"Use SemanticRouter\('local'\)",
    ):
        await SemanticRouter(KeywordEmbeddings()).adapt(AGENTS)
    with pytest.raises(ConfigurationError, match=r"SemanticRouter\.adapt\(\) needs the agents"):
        await SemanticRouter("local").adapt()
    # AGENTS have at most one example each: nothing to pair.
    with pytest.raises(
        ConfigurationError,
        match=r"adapt\(\) needs at least two example clusters with two or more requests "
        r"each; got 0\.",
    ):
        await SemanticRouter("local").adapt(AGENTS)
    with pytest.raises(ConfigurationError, match=r"adapt\(\) got epochs=0, batch_size=64"):
        await SemanticRouter("local").adapt(CLUSTER_AGENTS, epochs=0)


def test_local_embeddings_from_a_missing_directory_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(
        ConfigurationError, match=rf"LocalEmbeddings\('{missing}'\): no such directory"
    ):
        LocalEmbeddings(missing)
