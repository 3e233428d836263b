"""`SemanticRouter`: route a request to the agent whose profile it is closest to in meaning."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from .._checks import check_number
from ..embeddings import LocalEmbeddings, resolve_embeddings
from ..exceptions import ConfigurationError, RoutingError
from .adaptation import AdaptReport, TrainingClass, fine_tune
from .base import RouteContext, Router, RouterSetup, RoutingDecision, known_agent
from .profiles import ExampleSet, Profile, build_profile, clusters, score, training_groups
from .thresholds import FitReport, default_threshold, tune_threshold

if TYPE_CHECKING:
    from ..agent import Agent
    from ..models import ModelProvider
    from ..state import StateView

__all__ = [
    "AdaptReport",
    "ExampleSet",
    "FitReport",
    "SemanticRouter",
    "default_threshold",
    "tune_threshold",
]


class SemanticRouter(Router):
    """Route by embedding similarity between the request and each agent's profile.

    An agent's profile is its description (or instructions) plus its example requests,
    from ``Agent(examples=[...])`` and this router's ``examples``. Examples may come in
    named clusters (``{"Billing": {"refunds": [...], "invoices": [...]}}``); a plain list
    makes each example its own cluster. Profiles are embedded once and cached until the
    agents or examples change.

    An agent's score is the cosine similarity of its closest cluster centroid (the
    description is a cluster of its own). Below ``similarity_threshold`` the
    request goes to ``fallback``; without a fallback the best match is used and the
    decision is marked ``low_confidence``, or with ``strict=True`` `RoutingError` is
    raised. `fit` tunes the threshold on labelled requests. `adapt` fine-tunes a local
    embedding model on the agents' examples (few-shot), which helps most when agents
    have several example requests each. Concurrent requests are embedded in one batch.

    Args:
        model: ``"local"`` (offline MiniLM), an embedding-model name resolved by the
            network's provider, or any LangChain ``Embeddings``.
        similarity_threshold: ``None`` picks `default_threshold` for the model.
        fallback: The agent for requests below the threshold.
        examples: Example requests per agent name, added to the agents' own.
        strict: Raise instead of using a low-confidence best match.
        provider: Resolves a model name; the network's provider when ``None``.
    """

    def __init__(
        self,
        model: str | Embeddings = "text-embedding-3-small",
        similarity_threshold: float | None = None,
        fallback: str | None = None,
        *,
        examples: Mapping[str, ExampleSet] | None = None,
        strict: bool = False,
        provider: ModelProvider | None = None,
    ):
        self.model = model
        self.similarity_threshold: float = (
            check_number(
                similarity_threshold,
                "similarity_threshold",
                minimum=-1.0,
                maximum=1.0,
                owner="SemanticRouter: ",
                meaning=" Scores are cosine similarities, from -1 to 1; None picks a default "
                "suited to the model.",
            )
            if similarity_threshold is not None
            else default_threshold(model)
        )
        self.fallback: str | None = fallback
        self.examples: dict[str, ExampleSet] = dict(examples or {})
        self.strict = strict
        self._provider = provider
        self._embeddings: Embeddings | None = None
        self._agents: Sequence[Agent] = ()
        self._cache_key: object = None
        self._profile: Profile | None = None
        self._pending: list[tuple[str, asyncio.Future[list[float]]]] = []
        self._flush: asyncio.Task[None] | None = None

    def prepare(self, setup: RouterSetup) -> None:
        """Use the network's provider unless this router was given one; check the names.

        Raises:
            ConfigurationError: ``fallback`` or an ``examples`` key names an unknown agent.
        """
        if self._provider is None:
            self._provider = setup.provider
        self._agents = setup.agents
        if self.fallback is not None:
            self.fallback = known_agent(
                self.fallback, setup.agents, where="SemanticRouter(fallback=...)"
            )
        self.examples = {
            known_agent(name, setup.agents, where="SemanticRouter(examples=...)"): examples
            for name, examples in self.examples.items()
        }

    @property
    def embeddings(self) -> Embeddings:
        """The resolved embedding model."""
        if self._embeddings is None:
            self._embeddings = resolve_embeddings(self.model, self._provider)
        return self._embeddings

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """Score ``query`` against every agent's profile and decide by the threshold."""
        profile = await self._profile_for(agents)
        vector = np.asarray([await self._embed_query(query)], dtype=np.float64)
        scores, closest = score(profile, vector)
        return self._decide(query, profile, scores[0], closest[0])

    async def score_many(
        self, queries: Sequence[str], agents: Sequence[Agent]
    ) -> tuple[list[str], npt.NDArray[np.float64]]:
        """Score many requests at once: the agent names and a ``(queries, agents)`` matrix."""
        profile = await self._profile_for(agents)
        vectors = await self.embeddings.aembed_documents(list(queries))
        scores, _ = score(profile, np.asarray(vectors, dtype=np.float64))
        return profile.agents, scores

    async def fit(
        self,
        examples: Sequence[str],
        labels: Sequence[str | None],
        *,
        agents: Sequence[Agent] | None = None,
        min_accuracy: float | None = None,
    ) -> FitReport:
        """Tune ``similarity_threshold`` on labelled requests; ``None`` labels are out of scope.

        By default the threshold maximises the mean of in-scope accuracy and out-of-scope
        recall; it is placed midway between the scores that bound the best split. With
        ``min_accuracy`` it maximises out-of-scope recall among thresholds
        that keep accuracy at or above it (or, if none does, maximises accuracy).

        Raises:
            ConfigurationError: lengths differ, no agents are known, or a label is not an agent.
        """
        agents = self._known_agents("fit", agents)
        if len(examples) != len(labels):
            raise ConfigurationError(
                f"fit() got {len(examples)} examples but {len(labels)} labels."
            )
        names, scores = await self.score_many(examples, agents)
        unknown = sorted({label for label in labels if label is not None} - set(names))
        if unknown:
            raise ConfigurationError(f"fit() labels name unknown agents {unknown!r}.")
        predicted = np.asarray(names)[scores.argmax(axis=1)]
        in_scope = np.asarray([label is not None for label in labels])
        correct = in_scope & (predicted == np.asarray([str(label) for label in labels]))
        report = tune_threshold(scores.max(axis=1), correct, in_scope, min_accuracy=min_accuracy)
        self.similarity_threshold = report.threshold
        if isinstance(self.embeddings, LocalEmbeddings):
            # Travels with the model: router.embeddings.save(path) keeps it as well.
            self.embeddings.settings["fit"] = dataclasses.asdict(report)
            self.embeddings.settings["similarity_threshold"] = report.threshold
        return report

    async def adapt(
        self,
        agents: Sequence[Agent] | None = None,
        *,
        epochs: int = 6,
        learning_rate: float = 2e-5,
        batch_size: int = 64,
        seed: int = 0,
    ) -> AdaptReport:
        """Fine-tune the local embedding model on the agents' example requests.

        Each named example cluster (``examples={"refunds": [...], ...}``), and each agent's
        plain list of examples, is a training class; classes with one request are skipped.
        The model learns to pull a class's requests together and away from other agents'
        requests (see `graph_agents.routers.adaptation`). Training runs in a worker thread
        on a copy: the shared ``"local"`` model is untouched, and only this router uses
        the result. Profiles are re-embedded on the next decision, so call `fit` *after*
        `adapt` to tune the threshold to the new model. Keep the result with
        ``router.embeddings.save(path)`` and reuse it as
        ``SemanticRouter(LocalEmbeddings(path))``. Deterministic for a given ``seed``.

        Raises:
            ConfigurationError: the model is not a local sentence-transformers model (e.g.
                ``"text-embedding-3-small"``), no agents are known, or there are fewer
                than two clusters with two or more requests.
        """
        agents = self._known_agents("adapt", agents)
        embeddings = self.embeddings
        if not isinstance(embeddings, LocalEmbeddings):
            raise ConfigurationError(
                f"SemanticRouter.adapt() fine-tunes a local sentence-transformers model, but "
                f"this router embeds with {type(embeddings).__name__} (model={self.model!r}), "
                "which cannot be trained here. Use SemanticRouter('local') or "
                "SemanticRouter(LocalEmbeddings(path))."
            )
        classes = [
            TrainingClass(agent.name, tuple(group))
            for agent in agents
            for group in training_groups(agent.examples, self.examples.get(agent.name, ()))
        ]
        model, report = await asyncio.to_thread(
            fine_tune,
            embeddings.model,
            classes,
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
        )
        adapted = LocalEmbeddings(model, batch_size=embeddings.batch_size)
        adapted.settings = {"adapt": dataclasses.asdict(report)}
        self._embeddings = adapted
        self._profile, self._cache_key = None, None
        return report

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the local embedding model with what `fit` and `adapt` decided.

        ``SemanticRouter(LocalEmbeddings(path))`` (or `SemanticRouter.load`) then routes
        exactly as this router does: same model, same ``similarity_threshold``. Fallback,
        examples and ``strict`` are part of the code that builds the router, not saved.

        Raises:
            ConfigurationError: the model is not a local sentence-transformers model.
        """
        embeddings = self.embeddings
        if not isinstance(embeddings, LocalEmbeddings):
            raise ConfigurationError(
                f"SemanticRouter.save() saves a local sentence-transformers model, but this "
                f"router embeds with {type(embeddings).__name__} (model={self.model!r}). "
                "Keep the model name and similarity_threshold in your configuration instead."
            )
        embeddings.settings["similarity_threshold"] = self.similarity_threshold
        return embeddings.save(path)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        fallback: str | None = None,
        *,
        examples: Mapping[str, ExampleSet] | None = None,
        strict: bool = False,
    ) -> SemanticRouter:
        """A router on the model and settings `save` wrote to ``path``.

        Raises:
            ConfigurationError: ``path`` is not a saved model directory.
        """
        return cls(LocalEmbeddings(path), fallback=fallback, examples=examples, strict=strict)

    async def warmup(self, agents: Sequence[Agent] = ()) -> None:
        """Load the embedding model, embed the agents' profiles and one request, now.

        The first request otherwise pays for all three (seconds for the local model).
        Without ``agents``, the network's (after ``create_network``) are used; with
        neither, only the model is loaded.
        """
        known = agents or self._agents
        embeddings = await asyncio.to_thread(lambda: self.embeddings)
        if isinstance(embeddings, LocalEmbeddings):
            await asyncio.to_thread(lambda: embeddings.model)
        if known:
            await self._profile_for(known)
            await self._embed_query("warm up")

    def _known_agents(self, method: str, agents: Sequence[Agent] | None) -> Sequence[Agent]:
        agents = agents or self._agents
        if not agents:
            raise ConfigurationError(
                f"SemanticRouter.{method}() needs the agents: pass agents=[...] or use the "
                "router in a network first."
            )
        return agents

    def _decide(
        self, query: str, profile: Profile, scores: npt.NDArray[np.float64], closest: list[str]
    ) -> RoutingDecision:
        by_agent = {name: float(s) for name, s in zip(profile.agents, scores, strict=True)}
        index = int(np.argmax(scores))  # ties go to the agent listed first
        best, score = profile.agents[index], float(scores[index])
        reason = f"closest to {best!r} profile {closest[index]!r} ({score:.3f})"
        if score >= self.similarity_threshold:
            return RoutingDecision(agent=best, scores=by_agent, reason=reason, router=self.name)
        below = f"{reason} is below the threshold {self.similarity_threshold:.3f}"
        if self.fallback is not None:
            return RoutingDecision(
                agent=self.fallback,
                scores=by_agent,
                router=self.name,
                fell_back=True,
                reason=f"{below}; fell back to {self.fallback!r}",
            )
        if self.strict:
            raise RoutingError(
                f"SemanticRouter: no agent matches {query!r} well enough: {below}. Add "
                "examples to the agents, lower similarity_threshold, or set a fallback."
            )
        return RoutingDecision(
            agent=best,
            scores=by_agent,
            router=self.name,
            low_confidence=True,
            reason=f"{below}; no fallback, so the best match was used",
        )

    async def _profile_for(self, agents: Sequence[Agent]) -> Profile:
        named = [
            (
                agent.name,
                [
                    [agent.profile],
                    *clusters(agent.examples),
                    *clusters(self.examples.get(agent.name, ())),
                ],
            )
            for agent in agents
        ]
        key = repr(named)
        if key != self._cache_key or self._profile is None:
            texts = [t for _, groups in named for group in groups for t in group]
            vectors = await self.embeddings.aembed_documents(texts)
            self._profile = build_profile(named, np.asarray(vectors, dtype=np.float64))
            self._cache_key = key
        return self._profile

    async def _embed_query(self, query: str) -> list[float]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[float]] = loop.create_future()
        self._pending.append((query, future))
        if self._flush is None:
            self._flush = loop.create_task(self._embed_pending())
        return await future

    async def _embed_pending(self) -> None:
        # One loop iteration lets every concurrent route() enqueue its query first.
        await asyncio.sleep(0)
        batch, self._pending, self._flush = self._pending, [], None
        try:
            vectors = await self.embeddings.aembed_documents([query for query, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), vector in zip(batch, vectors, strict=True):
            if not future.done():
                future.set_result(vector)
