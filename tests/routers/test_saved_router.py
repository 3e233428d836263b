"""A saved router comes back as it was saved: the same model and the same threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph_agents import Agent, ConfigurationError
from graph_agents.embeddings import SETTINGS_FILE, LocalEmbeddings
from graph_agents.routers import SemanticRouter

from .test_semantic import KeywordEmbeddings

AGENTS = [
    Agent("Billing", "Invoices, refunds and payments.", examples=["refund my order"]),
    Agent("Tech", "Bugs, crashes and error messages.", examples=["the app crashes"]),
]
TEXTS = ["my invoice is wrong", "the screen freezes", "what is the weather", "tell me a joke"]
LABELS = ["Billing", "Tech", None, None]
QUERIES = ["refund", "it crashed again", "sing a song", "payment failed twice"]


async def decisions(router: SemanticRouter) -> list[tuple[str | None, bool, dict[str, float]]]:
    out = []
    for query in QUERIES:
        decision = await router.decide(query, AGENTS)
        out.append((decision.agent, decision.low_confidence, decision.scores))
    return out


async def test_fit_threshold_survives_save_and_reload(tmp_path: Path) -> None:
    router = SemanticRouter("local")
    report = await router.fit(TEXTS, LABELS, agents=AGENTS)
    assert router.similarity_threshold == report.threshold != 0.35
    before = await decisions(router)

    saved = router.save(tmp_path / "router")
    settings = json.loads((saved / SETTINGS_FILE).read_text())
    assert settings["similarity_threshold"] == report.threshold
    assert settings["fit"] == {
        "threshold": report.threshold,
        "accuracy": report.accuracy,
        "oos_recall": report.oos_recall,
    }
    for reloaded in (
        SemanticRouter(LocalEmbeddings(saved)),
        SemanticRouter.load(saved),
    ):
        assert reloaded.similarity_threshold == report.threshold
        assert await decisions(reloaded) == before

    # The documented path, saving the embeddings, keeps the fitted threshold too.
    router.embeddings.save(tmp_path / "embeddings")  # type: ignore[attr-defined]
    again = SemanticRouter(LocalEmbeddings(tmp_path / "embeddings"))
    assert again.similarity_threshold == report.threshold


async def test_an_unfitted_saved_model_gets_the_local_default(tmp_path: Path) -> None:
    path = LocalEmbeddings().save(tmp_path / "plain")
    assert json.loads((path / SETTINGS_FILE).read_text()) == {}
    assert SemanticRouter(LocalEmbeddings(path)).similarity_threshold == 0.35
    assert SemanticRouter("local").similarity_threshold == 0.35
    assert (
        SemanticRouter(LocalEmbeddings(path), similarity_threshold=0.5).similarity_threshold == 0.5
    )


def test_saving_a_remote_model_router_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SemanticRouter(KeywordEmbeddings()).save(tmp_path / "x")
    assert str(caught.value).startswith(
        "SemanticRouter.save() saves a local sentence-transformers model, but this router "
        "embeds with KeywordEmbeddings"
    )
