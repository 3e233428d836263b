from __future__ import annotations

import asyncio

import pytest
from langchain_core.embeddings import Embeddings

from graph_agents import Agent, ConfigurationError, RoutingError, create_network
from graph_agents.routers import SemanticRouter
from graph_agents.routers.semantic import default_threshold
from graph_agents.testing import ScriptedModel

AXES = ("search", "write", "review", "weather")


class KeywordEmbeddings(Embeddings):
    """One axis per keyword: cosine similarity is the overlap of keywords."""

    def __init__(self) -> None:
        self.documents: list[str] = []
        self.queries: list[str] = []

    def _vector(self, text: str) -> list[float]:
        words = text.lower().split()
        return [float(sum(w.startswith(axis) for w in words)) for axis in AXES] + [0.1]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return self._vector(text)


AGENTS = [
    Agent("Researcher", "You search sources.", examples=["search the archives"]),
    Agent("Writer", "You write prose."),
    Agent("Reviewer", "You review drafts."),
]


async def test_best_profile_wins_with_scores_for_every_agent() -> None:
    embeddings = KeywordEmbeddings()
    router = SemanticRouter(embeddings, similarity_threshold=0.5)
    decision = await router.decide("please search for llamas", AGENTS)
    assert decision.agent == "Researcher"
    assert not decision.low_confidence
    assert set(decision.scores) == {"Researcher", "Writer", "Reviewer"}
    assert decision.scores["Researcher"] == pytest.approx(1.0)
    assert decision.scores["Writer"] == pytest.approx(0.0099, abs=1e-3)
    assert decision.reason == ("closest to 'Researcher' profile 'You search sources.' (1.000)")
    # Profiles are embedded once and cached; queries are embedded per request.
    await router.decide("write a poem", AGENTS)
    assert embeddings.documents == [
        "You search sources.",
        "search the archives",
        "You write prose.",
        "You review drafts.",
        "please search for llamas",
        "write a poem",
    ]


async def test_router_examples_extend_profiles_and_invalidate_the_cache() -> None:
    embeddings = KeywordEmbeddings()
    router = SemanticRouter(
        embeddings, similarity_threshold=0.5, examples={"Reviewer": ["weather report check"]}
    )
    assert (await router.decide("weather today", AGENTS)).agent == "Reviewer"
    changed = [*AGENTS[:2], Agent("Reviewer", "You review drafts.")]
    changed.append(Agent("Forecaster", "You forecast weather."))
    decision = await router.decide("weather today", changed)
    assert decision.agent == "Reviewer"  # ties go to the agent listed first
    assert embeddings.documents.count("You forecast weather.") == 1
    assert embeddings.documents.count("You search sources.") == 2  # re-embedded: agents changed


async def test_below_threshold_goes_to_the_fallback() -> None:
    router = SemanticRouter(KeywordEmbeddings(), similarity_threshold=0.5, fallback="Writer")
    decision = await router.decide("what is the capital of peru", AGENTS)
    assert decision.agent == "Writer"
    assert decision.reason.endswith("is below the threshold 0.500; fell back to 'Writer'")


async def test_below_threshold_without_fallback_is_low_confidence_or_strict() -> None:
    lenient = SemanticRouter(KeywordEmbeddings(), similarity_threshold=0.5)
    decision = await lenient.decide("capital of peru", AGENTS)
    assert decision.agent == "Researcher"
    assert decision.low_confidence
    strict = SemanticRouter(KeywordEmbeddings(), similarity_threshold=0.5, strict=True)
    with pytest.raises(
        RoutingError,
        match=r"SemanticRouter: no agent matches 'capital of "
        r"peru' well enough: .* Add examples to the agents",
    ):
        await strict.decide("capital of peru", AGENTS)


def test_default_threshold_suits_the_model() -> None:
    assert default_threshold("local") == 0.35
    assert default_threshold("text-embedding-3-small") == 0.3
    assert SemanticRouter("text-embedding-3-small").similarity_threshold == 0.3
    assert SemanticRouter("local", similarity_threshold=0.7).similarity_threshold == 0.7


async def test_in_a_network_the_decision_is_recorded() -> None:
    network = create_network(
        agents=[
            Agent("Researcher", "You search sources.", model=ScriptedModel(["found"])),
            Agent("Writer", "You write prose.", model=ScriptedModel(["written"])),
        ],
        router=SemanticRouter(KeywordEmbeddings(), similarity_threshold=0.5),
    )
    result = await network.run("write me a sonnet")
    assert result.agent_path == ["Writer"]
    assert result.routes[0]["router"] == "SemanticRouter"
    assert result.routes[0]["scores"]["Writer"] > result.routes[0]["scores"]["Researcher"]


async def test_real_local_minilm_routes_by_meaning() -> None:
    router = SemanticRouter("local", fallback="Helpdesk")
    agents = [
        Agent(
            "Billing",
            "Handles invoices, refunds, payments and charges on a bill.",
            examples=["I was charged twice", "Where is my refund?"],
        ),
        Agent(
            "Travel",
            "Books flights, hotels and rental cars for trips.",
            examples=["Book me a flight to Lisbon", "I need a hotel in Rome"],
        ),
        Agent("Helpdesk", "General questions that no specialist handles."),
    ]
    assert (await router.decide("my credit card got billed two times", agents)).agent == "Billing"
    assert (await router.decide("reserve a room near the Colosseum", agents)).agent == "Travel"
    far = await router.decide("what is the boiling point of tungsten", agents)
    assert far.agent == "Helpdesk"
    assert "fell back to 'Helpdesk'" in far.reason


async def test_fit_tunes_the_threshold_on_labelled_requests() -> None:
    router = SemanticRouter(KeywordEmbeddings(), similarity_threshold=0.99)
    report = await router.fit(
        [
            "search records",
            "search and write",
            "write it up",
            "review this",
            "weather now",
            "hello there",
        ],
        ["Researcher", "Researcher", "Writer", "Reviewer", None, None],
        agents=AGENTS,
    )
    assert report.accuracy == 1.0
    assert report.oos_recall == 1.0
    assert report.threshold == pytest.approx((0.0995 + 0.7089) / 2, abs=1e-3)
    assert router.similarity_threshold == report.threshold
    assert not (await router.decide("search it", AGENTS)).low_confidence
    assert (await router.decide("hello", AGENTS)).low_confidence


async def test_fit_errors_name_the_problem() -> None:
    router = SemanticRouter(KeywordEmbeddings())
    with pytest.raises(ConfigurationError, match=r"fit\(\) needs the agents"):
        await router.fit(["a"], ["Writer"])
    with pytest.raises(ConfigurationError, match=r"fit\(\) got 2 examples but 1 labels"):
        await router.fit(["a", "b"], ["Writer"], agents=AGENTS)
    with pytest.raises(ConfigurationError, match=r"labels name unknown agents \['Poet'\]"):
        await router.fit(["a"], ["Poet"], agents=AGENTS)


async def test_concurrent_requests_are_embedded_in_one_batch() -> None:
    class Counting(KeywordEmbeddings):
        def __init__(self) -> None:
            super().__init__()
            self.batches: list[int] = []

        async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
            self.batches.append(len(texts))
            return self.embed_documents(texts)

    embeddings = Counting()
    router = SemanticRouter(embeddings, similarity_threshold=0.5)
    await router.decide("warm the profile cache", AGENTS)
    embeddings.batches.clear()
    decisions = await asyncio.gather(
        *(router.decide(q, AGENTS) for q in ("search a", "write b", "review c", "search d"))
    )
    assert [d.agent for d in decisions] == ["Researcher", "Writer", "Reviewer", "Researcher"]
    assert embeddings.batches == [4]


async def test_warmup_with_agents_embeds_profiles_before_any_network() -> None:
    embeddings = KeywordEmbeddings()
    router = SemanticRouter(embeddings)
    await router.warmup(AGENTS)
    assert embeddings.documents == [
        "You search sources.",
        "search the archives",
        "You write prose.",
        "You review drafts.",
        "warm up",
    ]
    await router.decide("write it", AGENTS)
    assert embeddings.documents[5:] == ["write it"]


@pytest.mark.parametrize(
    ("min_accuracy", "threshold", "accuracy", "recall"),
    [
        (None, 0.75, 0.4, 1.0),  # best mean of accuracy and recall
        (0.6, 0.45, 0.6, 2 / 3),  # best recall keeping accuracy >= 0.6
        (0.4, 0.75, 0.4, 1.0),
        (0.9, 0.25, 0.8, 1 / 3),  # unreachable: best accuracy, then recall
    ],
)
def test_tune_threshold_policies(
    min_accuracy: float | None, threshold: float, accuracy: float, recall: float
) -> None:
    import numpy as np

    from graph_agents.routers.semantic import tune_threshold

    best = np.asarray([0.9, 0.8, 0.6, 0.5, 0.3, 0.7, 0.4, 0.2])
    correct = np.asarray([True, True, True, False, True, False, False, False])
    in_scope = np.asarray([True, True, True, True, True, False, False, False])
    report = tune_threshold(best, correct, in_scope, min_accuracy=min_accuracy)
    assert report.threshold == pytest.approx(threshold)
    assert report.accuracy == pytest.approx(accuracy)
    assert report.oos_recall == pytest.approx(recall)


def test_tune_threshold_edges() -> None:
    import numpy as np

    from graph_agents.routers.semantic import tune_threshold

    # Every score negative, all in scope and right: accept them all, just below the lowest.
    report = tune_threshold(
        np.asarray([-0.2, -0.1]), np.asarray([True, True]), np.asarray([True, True])
    )
    assert report.threshold == pytest.approx(-0.2 - 1e-6, abs=1e-9)
    assert (report.accuracy, report.oos_recall) == (1.0, 1.0)
    # One in-scope request: accuracy is out of one.
    single = tune_threshold(
        np.asarray([0.9, 0.1]), np.asarray([True, False]), np.asarray([True, False])
    )
    assert (single.accuracy, single.oos_recall) == (1.0, 1.0)
    # Only out-of-scope requests: accuracy is 0, not a division by zero.
    none_in_scope = tune_threshold(
        np.asarray([0.9, 0.1]), np.asarray([False, False]), np.asarray([False, False])
    )
    assert none_in_scope.accuracy == 0.0
    assert none_in_scope.oos_recall == 0.5  # thresholds sit at observed scores


def test_a_network_provider_resolves_the_embedding_name_unless_the_router_has_one() -> None:
    from graph_agents import OpenAIModelProvider
    from graph_agents.routers.base import RouterSetup

    network_provider = OpenAIModelProvider(base_url="http://127.0.0.1:9/v1", api_key="k")
    own = OpenAIModelProvider(base_url="http://127.0.0.1:8/v1", api_key="k")
    inherits = SemanticRouter("text-embedding-3-small")
    keeps = SemanticRouter("text-embedding-3-small", provider=own)
    for router in (inherits, keeps):
        router.prepare(RouterSetup(agents=AGENTS, provider=network_provider))
    assert inherits.embeddings.openai_api_base == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
    assert keeps.embeddings.openai_api_base == "http://127.0.0.1:8/v1"  # type: ignore[attr-defined]


def test_decisions_are_immutable() -> None:
    import dataclasses

    from graph_agents import RoutingDecision

    decision = RoutingDecision(agent="Writer")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.agent = "Reviewer"  # type: ignore[misc]


async def test_fit_counts_a_misrouted_request_as_wrong() -> None:
    router = SemanticRouter(KeywordEmbeddings())
    report = await router.fit(
        ["search records", "write it up", "review this", "weather now"],
        ["Researcher", "Reviewer", "Reviewer", None],  # "write it up" goes to the Writer
        agents=AGENTS,
    )
    assert report.accuracy == pytest.approx(2 / 3)
    assert report.oos_recall == 1.0


def test_adapt_is_deterministic_by_default() -> None:
    import inspect

    assert inspect.signature(SemanticRouter.adapt).parameters["seed"].default == 0
