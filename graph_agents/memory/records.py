"""What a memory is: `Memory`, its kinds and scopes, and how recall weighs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .._checks import check_int, check_number
from ..exceptions import ConfigurationError
from .store import StoredMemory

__all__ = [
    "KINDS",
    "SCOPES",
    "Memory",
    "MemoryKind",
    "MemoryScope",
    "RetrievalWeights",
    "memory_from_row",
    "rank",
    "retention",
]

MemoryKind = Literal["observation", "reflection", "fact"]
MemoryScope = Literal["agent", "network", "user"]
KINDS = ("observation", "reflection", "fact")
SCOPES = ("agent", "network", "user")


@dataclass(frozen=True)
class RetrievalWeights:
    """How recall weighs relevance, recency and importance (see `graph_agents.memory.manager`).

    Raises:
        ConfigurationError: a negative weight, all three weights 0, ``decay`` outside
            (0, 1], or ``candidates`` below 1.
    """

    relevance: float = 1.0
    recency: float = 1.0
    importance: float = 1.0
    decay: float = 0.995
    """Recency multiplier per hour since last access."""
    candidates: int = 20
    """Nearest memories fetched from Chroma before scoring (at least ``k``). A memory
    outside the ``candidates`` nearest is not recalled, however recent or important;
    more candidates cost recall time (``benchmarks/memory.py``: 20 costs about 6% over
    fetching 5 from Chroma, 50 about 30%)."""

    def __post_init__(self) -> None:
        owner = "RetrievalWeights: "
        for name in ("relevance", "recency", "importance"):
            check_number(getattr(self, name), name, minimum=0, owner=owner)
        if self.relevance == self.recency == self.importance == 0:
            raise ConfigurationError(
                f"{owner}relevance, recency and importance are all 0; give at least one a "
                "weight above 0."
            )
        check_number(
            self.decay,
            "decay",
            above=0,
            maximum=1,
            owner=owner,
            meaning=" It is the recency multiplier per hour.",
        )
        check_int(self.candidates, "candidates", minimum=1, owner=owner)


@dataclass(frozen=True)
class Memory:
    """One memory, as `MemoryManager.search` and `MemoryManager.add` return it."""

    id: str
    text: str
    kind: MemoryKind
    importance: float
    created_at: float
    last_accessed: float
    namespace: str
    agent: str | None = None
    thread_id: str | None = None
    user_id: str | None = None
    sources: tuple[str, ...] = ()
    """A reflection's source memory ids."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Your own metadata (from ``add(..., metadata=)``)."""
    score: float | None = None
    """The recall score (searches only)."""
    relevance: float | None = None
    """Cosine similarity to the query (searches only)."""


def memory_from_row(row: StoredMemory, score: float | None = None) -> Memory:
    meta = row.metadata
    sources = str(meta.get("sources") or "")
    kind = str(meta.get("kind") or "fact")
    return Memory(
        id=row.id,
        text=row.text,
        kind=kind if kind in KINDS else "fact",  # type: ignore[arg-type]
        importance=float(meta.get("importance") or 0.0),
        created_at=float(meta.get("created_at") or 0.0),
        last_accessed=float(meta.get("last_accessed") or 0.0),
        namespace=str(meta.get("namespace") or ""),
        agent=_opt(meta.get("agent")),
        thread_id=_opt(meta.get("thread_id")),
        user_id=_opt(meta.get("user_id")),
        sources=tuple(s for s in sources.split(",") if s),
        metadata={k[5:]: v for k, v in meta.items() if k.startswith("user.")},
        score=score,
        relevance=None if row.distance is None else 1.0 - row.distance,
    )


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def retention(row: StoredMemory, now: float, decay: float) -> tuple[int, float, float, str]:
    """The eviction order key of ``row`` (lowest goes first): observations a reflection
    covers before the rest, then ``importance / 10 * decay ** hours`` since last
    access, then age, then id."""
    meta = row.metadata
    covered = meta.get("kind") == "observation" and bool(meta.get("covered"))
    age = max(0.0, now - float(meta.get("last_accessed") or 0.0)) / 3600.0
    value = float(meta.get("importance") or 0.0) / 10.0 * decay**age
    return (0 if covered else 1, value, float(meta.get("created_at") or 0.0), row.id)


def rank(found: Sequence[StoredMemory], w: RetrievalWeights, now: float) -> list[Memory]:
    """``found`` scored at time ``now`` and sorted best first (ties: the smaller id)."""
    relevance = [max(0.0, 1.0 - (row.distance or 0.0)) for row in found]
    recency = [
        w.decay ** (max(0.0, now - float(row.metadata.get("last_accessed") or 0.0)) / 3600.0)
        for row in found
    ]
    importance = [float(row.metadata.get("importance") or 0.0) / 10.0 for row in found]
    scores = [
        w.relevance * a + w.recency * b + w.importance * c
        for a, b, c in zip(relevance, recency, importance, strict=True)
    ]
    order = sorted(range(len(found)), key=lambda i: (-scores[i], found[i].id))
    return [memory_from_row(found[i], round(scores[i], 6)) for i in order]
