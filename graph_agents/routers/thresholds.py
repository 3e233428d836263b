"""Similarity thresholds: a default per embedding model, and tuning one on labelled data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

__all__ = ["FitReport", "default_threshold", "tune_threshold"]

_DEFAULT_THRESHOLDS: dict[str, float] = {
    "local": 0.35,
    "text-embedding-3-small": 0.3,
    "text-embedding-3-large": 0.3,
    "text-embedding-ada-002": 0.75,
}


def default_threshold(model: str | Embeddings) -> float:
    """The similarity threshold suited to ``model``.

    Good matches score far below 0.7 with MiniLM and text-embedding-3, so the default is
    per model; an unknown model gets 0.3. A `LocalEmbeddings` model gets the threshold
    saved with it (by `SemanticRouter.fit` then ``save``), else the local MiniLM's 0.35,
    so ``SemanticRouter(LocalEmbeddings(path))`` routes as the router that saved it.
    """
    from ..embeddings import LocalEmbeddings

    if isinstance(model, str):
        return _DEFAULT_THRESHOLDS.get(model, 0.3)
    if isinstance(model, LocalEmbeddings):
        saved = model.settings.get("similarity_threshold")
        return float(saved) if isinstance(saved, (int, float)) else _DEFAULT_THRESHOLDS["local"]
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


def tune_threshold(
    best: npt.NDArray[np.float64],
    correct: npt.NDArray[np.bool_],
    in_scope: npt.NDArray[np.bool_],
    *,
    min_accuracy: float | None = None,
) -> FitReport:
    """The threshold `SemanticRouter.fit` chooses, from per-request scores.

    ``best`` is each request's best agent score, ``correct`` whether that agent is its
    label, ``in_scope`` whether it has one. By default the threshold maximises the mean
    of in-scope accuracy and out-of-scope recall; with ``min_accuracy`` it maximises
    recall among thresholds keeping accuracy at or above it (or, if none does,
    maximises accuracy). It sits midway between the scores that bound the best split.
    """

    def rates(threshold: float) -> tuple[float, float]:
        accepted = best >= threshold
        accuracy = float((correct & accepted).sum() / max(in_scope.sum(), 1))
        recall = float((~in_scope & ~accepted).sum() / max((~in_scope).sum(), 1))
        return accuracy, recall

    candidates = np.unique(np.concatenate([best, [best.min() - 1e-6]]))
    chosen, chosen_key = float(candidates[0]), (-1.0, -1.0)
    for position, threshold in enumerate(candidates):
        accuracy, recall = rates(float(threshold))
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
    accuracy, recall = rates(chosen)
    return FitReport(
        threshold=chosen, accuracy=accuracy, oos_recall=recall if (~in_scope).any() else 1.0
    )
