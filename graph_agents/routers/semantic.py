"""`SemanticRouter`: route a request to the agent whose profile it is closest to in meaning."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from ..embeddings import resolve_embeddings
from ..exceptions import ConfigurationError, RoutingError
from .base import RouteContext, Router, RouterSetup, RoutingDecision

if TYPE_CHECKING:
    from ..agent import Agent
    from ..models import ModelProvider
    from ..state import StateView

__all__ = ["ExampleSet", "FitReport", "SemanticRouter", "default_threshold"]

ExampleSet = Sequence[str] | Mapping[str, Sequence[str]]
"""An agent's examples: a list of requests, or named clusters of requests (e.g. by intent)."""

_Matrix = npt.NDArray[np.float64]

_DEFAULT_THRESHOLDS: dict[str, float] = {
    "local": 0.35,
    "text-embedding-3-small": 0.3,
    "text-embedding-3-large": 0.3,
    "text-embedding-ada-002": 0.75,
}


def default_threshold(model: str | Embeddings) -> float:
    """The similarity threshold suited to ``model``.

    Good matches score far below 0.7 with MiniLM and text-embedding-3, so the default is
    per model; an unknown model gets 0.3.
    """
    if isinstance(model, str):
        return _DEFAULT_THRESHOLDS.get(model, 0.3)
    return 0.3


@dataclass(frozen=True)
class FitReport:
    """What `SemanticRouter.fit` chose and how the labelled data scored with it."""

    threshold: float
    """The similarity threshold now in use."""
    accuracy: float
    """Share of in-scope examples routed to their label (a rejection counts as wrong)."""
    oos_recall: float
    """Share of out-of-scope examples (label ``None``) rejected; 1.0 when there are none."""


@dataclass(frozen=True)
class _Profile:
    agents: list[str]
    labels: list[str]
    """Per cluster, the text a decision's reason quotes (its first example)."""
    centroids: _Matrix
    centroid_owner: npt.NDArray[np.int64]


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
    raised. `fit` tunes the threshold on labelled requests. Concurrent requests are
    embedded in one batch.

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
        self.similarity_threshold = (
            similarity_threshold if similarity_threshold is not None else default_threshold(model)
        )
        self.fallback = fallback
        self.examples = dict(examples or {})
        self.strict = strict
        self._provider = provider
        self._embeddings: Embeddings | None = None
        self._agents: Sequence[Agent] = ()
        self._cache_key: object = None
        self._profile: _Profile | None = None
        self._pending: list[tuple[str, asyncio.Future[list[float]]]] = []
        self._flush: asyncio.Task[None] | None = None

    def prepare(self, setup: RouterSetup) -> None:
        """Use the network's provider unless this router was given one."""
        if self._provider is None:
            self._provider = setup.provider
        self._agents = setup.agents

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
        profile = await self._profile_for(agents)
        vector = np.asarray([await self._embed_query(query)], dtype=np.float64)
        scores, closest = self._score(profile, _normalise(vector))
        return self._decide(query, profile, scores[0], closest[0])

    async def score_many(
        self, queries: Sequence[str], agents: Sequence[Agent]
    ) -> tuple[list[str], _Matrix]:
        """Score many requests at once: the agent names and a ``(queries, agents)`` matrix."""
        profile = await self._profile_for(agents)
        vectors = await self.embeddings.aembed_documents(list(queries))
        scores, _ = self._score(profile, _normalise(np.asarray(vectors, dtype=np.float64)))
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
        agents = agents or self._agents
        if not agents:
            raise ConfigurationError(
                "SemanticRouter.fit() needs the agents: pass agents=[...] or use the router "
                "in a network first."
            )
        if len(examples) != len(labels):
            raise ConfigurationError(
                f"fit() got {len(examples)} examples but {len(labels)} labels."
            )
        names, scores = await self.score_many(examples, agents)
        unknown = sorted({label for label in labels if label is not None} - set(names))
        if unknown:
            raise ConfigurationError(f"fit() labels name unknown agents {unknown!r}.")
        best = scores.max(axis=1)
        predicted = np.asarray(names)[scores.argmax(axis=1)]
        in_scope = np.asarray([label is not None for label in labels])
        correct = in_scope & (predicted == np.asarray([str(label) for label in labels]))
        candidates = np.unique(np.concatenate([best, [best.min() - 1e-6]]))
        chosen, chosen_key = float(candidates[0]), (-1.0, -1.0)
        for position, threshold in enumerate(candidates):
            accepted = best >= threshold
            accuracy = float((correct & accepted).sum() / max(in_scope.sum(), 1))
            recall = float((~in_scope & ~accepted).sum() / max((~in_scope).sum(), 1))
            if min_accuracy is None:
                key = ((accuracy + recall) / 2, accuracy)
            elif accuracy >= min_accuracy:
                key = (1.0 + recall, accuracy)
            else:
                key = (accuracy - 1.0, recall)
            if key > chosen_key:
                # Midway to the next lower score: the same split of this data, with the
                # widest margin on both sides for requests not seen yet.
                lower = candidates[position - 1] if position else threshold
                chosen, chosen_key = float(lower + threshold) / 2, key
        self.similarity_threshold = chosen
        accepted = best >= chosen
        return FitReport(
            threshold=chosen,
            accuracy=float((correct & accepted).sum() / max(in_scope.sum(), 1)),
            oos_recall=float((~in_scope & ~accepted).sum() / max((~in_scope).sum(), 1))
            if (~in_scope).any()
            else 1.0,
        )

    def _decide(
        self, query: str, profile: _Profile, scores: _Matrix, closest: list[str]
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

    def _score(self, profile: _Profile, queries: _Matrix) -> tuple[_Matrix, list[list[str]]]:
        centroid_sims = queries @ profile.centroids.T
        scores = np.full((len(queries), len(profile.agents)), -1.0)
        closest: list[list[str]] = [[""] * len(profile.agents) for _ in range(len(queries))]
        for index in range(len(profile.agents)):
            columns = np.flatnonzero(profile.centroid_owner == index)
            own = centroid_sims[:, columns]
            best = own.argmax(axis=1)
            scores[:, index] = own[np.arange(len(queries)), best]
            for row, position in enumerate(best):
                closest[row][index] = profile.labels[int(columns[position])]
        return scores, closest

    async def _profile_for(self, agents: Sequence[Agent]) -> _Profile:
        clusters = [
            (
                agent.name,
                [
                    [agent.profile],
                    *_clusters(agent.examples),
                    *_clusters(self.examples.get(agent.name, ())),
                ],
            )
            for agent in agents
        ]
        key = repr(clusters)
        if key != self._cache_key or self._profile is None:
            texts = [t for _, groups in clusters for group in groups for t in group]
            vectors = _normalise(
                np.asarray(await self.embeddings.aembed_documents(texts), dtype=np.float64)
            )
            labels: list[str] = []
            owners: list[int] = []
            centroids: list[_Matrix] = []
            row = 0
            for index, (_, groups) in enumerate(clusters):
                for group in groups:
                    centroids.append(vectors[row : row + len(group)].mean(axis=0))
                    owners.append(index)
                    labels.append(group[0])
                    row += len(group)
            self._profile = _Profile(
                agents=[name for name, _ in clusters],
                labels=labels,
                centroids=_normalise(np.asarray(centroids)),
                centroid_owner=np.asarray(owners),
            )
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


def _clusters(examples: ExampleSet) -> list[list[str]]:
    if isinstance(examples, Mapping):
        return [list(group) for group in examples.values() if group]
    return [[text] for text in examples]


def _normalise(matrix: _Matrix) -> _Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
