"""`SemanticRouter`: route a request to the agent whose profile it is closest to in meaning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from ..embeddings import resolve_embeddings
from ..exceptions import RoutingError
from .base import RouteContext, Router, RouterSetup, RoutingDecision

if TYPE_CHECKING:
    from ..agent import Agent
    from ..models import ModelProvider
    from ..state import StateView

__all__ = ["SemanticRouter", "default_threshold"]

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


class SemanticRouter(Router):
    """Route by embedding similarity between the request and each agent's profile.

    An agent's profile is its description (or instructions) plus its example requests,
    from ``Agent(examples=[...])`` and this router's ``examples``. Profiles are embedded
    once and cached until the agents change. An agent's score is its best-matching
    profile text's cosine similarity.

    Below the threshold the request goes to ``fallback``. Without a fallback the best
    match is used and the decision is marked ``low_confidence``; with ``strict=True`` a
    `RoutingError` is raised instead.

    Args:
        model: ``"local"`` (offline MiniLM), an embedding-model name resolved by the
            network's provider, or any LangChain ``Embeddings``.
        similarity_threshold: ``None`` picks `default_threshold` for the model.
        fallback: The agent for requests below the threshold.
        examples: Example requests per agent name, added to the agents' own.
        strict: Raise instead of using a low-confidence best match.
    """

    def __init__(
        self,
        model: str | Embeddings = "text-embedding-3-small",
        similarity_threshold: float | None = None,
        fallback: str | None = None,
        *,
        examples: Mapping[str, Sequence[str]] | None = None,
        strict: bool = False,
        provider: ModelProvider | None = None,
    ):
        self.model = model
        self.similarity_threshold = (
            similarity_threshold if similarity_threshold is not None else default_threshold(model)
        )
        self.fallback = fallback
        self.examples = {name: list(texts) for name, texts in (examples or {}).items()}
        self.strict = strict
        self._provider = provider
        self._embeddings: Embeddings | None = None
        self._cache_key: tuple[tuple[str, tuple[str, ...]], ...] | None = None
        self._profile: tuple[list[str], list[str], npt.NDArray[np.float64]] = (
            [],
            [],
            np.zeros((0, 0)),
        )

    def prepare(self, setup: RouterSetup) -> None:
        """Use the network's provider unless this router was given one."""
        if self._provider is None:
            self._provider = setup.provider

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
        owners, texts, matrix = await self._profiles(agents)
        query_vector = _normalise(np.asarray([await self.embeddings.aembed_query(query)]))[0]
        similarities = matrix @ query_vector
        scores: dict[str, float] = {agent.name: -1.0 for agent in agents}
        closest: dict[str, str] = {}
        for owner, text, similarity in zip(owners, texts, similarities.tolist(), strict=True):
            if similarity > scores[owner]:
                scores[owner], closest[owner] = similarity, text
        # Ties go to the agent listed first, so decisions are deterministic.
        best = max(scores, key=lambda name: scores[name])
        score = scores[best]
        reason = f"closest to {best!r} profile {closest.get(best, '')!r} ({score:.3f})"
        if score >= self.similarity_threshold:
            return RoutingDecision(agent=best, scores=scores, reason=reason, router=self.name)
        below = f"{reason} is below the threshold {self.similarity_threshold:.3f}"
        if self.fallback is not None:
            return RoutingDecision(
                agent=self.fallback,
                scores=scores,
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
            scores=scores,
            router=self.name,
            low_confidence=True,
            reason=f"{below}; no fallback, so the best match was used",
        )

    async def _profiles(
        self, agents: Sequence[Agent]
    ) -> tuple[list[str], list[str], npt.NDArray[np.float64]]:
        key = tuple(
            (agent.name, (agent.profile, *agent.examples, *self.examples.get(agent.name, ())))
            for agent in agents
        )
        if key != self._cache_key:
            pairs = [(name, text) for name, group in key for text in group]
            vectors = await self.embeddings.aembed_documents([text for _, text in pairs])
            self._profile = (
                [name for name, _ in pairs],
                [text for _, text in pairs],
                _normalise(np.asarray(vectors, dtype=np.float64)),
            )
            self._cache_key = key
        return self._profile


def _normalise(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
