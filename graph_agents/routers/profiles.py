"""Agent profiles for semantic routing: example clusters, their centroids, and scoring.

An agent's profile is a list of clusters of texts: its description (a cluster of its
own) and its example requests, either as named clusters or one cluster per example.
Each cluster becomes one L2-normalised centroid; an agent's score for a request is the
cosine similarity of its closest centroid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ExampleSet",
    "Profile",
    "build_profile",
    "clusters",
    "normalise",
    "score",
    "training_groups",
]

ExampleSet = Sequence[str] | Mapping[str, Sequence[str]]
"""An agent's examples: a list of requests, or named clusters of requests (e.g. by intent)."""

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Profile:
    """Every agent's centroids, as one matrix."""

    agents: list[str]
    """The agents' names, in order."""
    labels: list[str]
    """Per cluster, the text a decision's reason quotes (its first example)."""
    centroids: Matrix
    """One normalised centroid per cluster (rows)."""
    centroid_owner: npt.NDArray[np.int64]
    """Per centroid, the index of its agent in ``agents``."""


def clusters(examples: ExampleSet) -> list[list[str]]:
    """Named clusters as they are; a plain list makes each example its own cluster."""
    if isinstance(examples, Mapping):
        return [list(group) for group in examples.values() if group]
    return [[text] for text in examples]


def training_groups(*example_sets: ExampleSet) -> list[list[str]]:
    """Named clusters as they are; an agent's plain example lists together as one group."""
    groups: list[list[str]] = []
    plain: list[str] = []
    for examples in example_sets:
        if isinstance(examples, Mapping):
            groups.extend(list(group) for group in examples.values() if group)
        else:
            plain.extend(examples)
    return [*groups, plain] if plain else groups


def build_profile(named: Sequence[tuple[str, list[list[str]]]], vectors: Matrix) -> Profile:
    """The profile of ``named`` (agent, clusters) pairs, given every text's vector in order."""
    vectors = normalise(vectors)
    labels: list[str] = []
    owners: list[int] = []
    centroids: list[Matrix] = []
    row = 0
    for index, (_, groups) in enumerate(named):
        for group in groups:
            centroids.append(vectors[row : row + len(group)].mean(axis=0))
            owners.append(index)
            labels.append(group[0])
            row += len(group)
    return Profile(
        agents=[name for name, _ in named],
        labels=labels,
        centroids=normalise(np.asarray(centroids)),
        centroid_owner=np.asarray(owners),
    )


def score(profile: Profile, queries: Matrix) -> tuple[Matrix, list[list[str]]]:
    """A ``(queries, agents)`` score matrix, and per query and agent the closest label."""
    centroid_sims = normalise(queries) @ profile.centroids.T
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


def normalise(matrix: Matrix) -> Matrix:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
