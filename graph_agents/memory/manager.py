"""`MemoryManager`: what an agent remembers, how it is recalled, reflected on and evicted.

**Records** (`Memory`): text, ``kind`` (``observation``: an exchange stored after a
turn; ``reflection``: an insight the agent's model drew from observations; ``fact``:
added through the API), ``importance`` (1-10), created and last-accessed times, the
agent, thread and user, and a reflection's source ids.

**Recall** scores each candidate (the ``candidates`` nearest by embedding) by

    score = w_relevance * relevance + w_recency * recency + w_importance * importance

where each part is normalised to 0..1 on its own absolute scale: relevance is the cosine
similarity (negative counts 0), recency is ``decay ** hours`` since the memory was last
accessed, and importance is ``importance / 10``. (Absolute scales, not min-max over the
candidates: with few candidates, min-max would turn a millisecond's difference in age
into a full point.) The defaults, `RetrievalWeights()`, weigh the three equally with
``decay=0.995`` per hour, as in the Generative Agents paper. Ties go to the smaller id.
Recall updates the returned memories' last-accessed time.

**Scopes**: ``"agent"`` (each agent its own memories), ``"network"`` (the agents of one
network share them), ``"user"`` (one namespace per ``user_id`` passed at run time). A
search never returns another namespace's memories.

**Eviction**: after a write, while the namespace holds more than ``max_memories``, the
lowest-retention memories (``importance / 10 * recency``) are deleted, observations a
reflection already covers first. Each process counts its namespace once and then keeps
count of its own writes; near the cap it recounts what Chroma holds, so several writers
(an HTTP server) stay under it too, give or take their writes in flight.

**Reflection** (``enable_reflection``): once the importance of observations not yet
reflected on passes ``reflection_threshold``, the agent's model is asked for a few
insights about them; each is stored as a ``reflection`` citing its sources, which count
as covered. A failure is logged and retried after the next write; it never fails a run.
What an agent's turn writes (the exchange, a due reflection) is in `.turns`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from .._checks import check_int, check_number
from ..exceptions import ConfigurationError
from .records import (
    KINDS,
    SCOPES,
    Memory,
    MemoryKind,
    MemoryScope,
    RetrievalWeights,
    memory_from_row,
    rank,
    retention,
)
from .reflection import heuristic_importance
from .store import StoredMemory, VectorMemoryStore, rows

__all__ = ["Memory", "MemoryKind", "MemoryManager", "MemoryScope", "RetrievalWeights"]

logger: logging.Logger = logging.getLogger("graph_agents.memory")


class MemoryManager:
    """An agent's long-term memory; see the module docstring.

    Args:
        store: Where memories live; an ephemeral ``VectorMemoryStore()`` by default.
        enable_reflection: Let the agent's model write insights about its observations.
        max_memories: The most memories one namespace keeps.
        top_k: Memories recalled before each turn.
        scope: ``"agent"``, ``"network"`` or ``"user"``.
        weights: The recall weights.
        reflection_threshold: Summed importance of unreflected observations that
            triggers a reflection.
        importance: ``"heuristic"`` (default) or ``"model"`` (the agent's model rates
            each exchange 1-10; the heuristic when it cannot).
        clock: Seconds since the epoch (tests pass a fake).

    Raises:
        ConfigurationError: a value out of range, or an unknown scope.
    """

    def __init__(
        self,
        store: VectorMemoryStore | None = None,
        enable_reflection: bool = True,
        max_memories: int = 1000,
        top_k: int = 5,
        scope: MemoryScope = "agent",
        *,
        weights: RetrievalWeights | None = None,
        reflection_threshold: float = 25.0,
        importance: Literal["heuristic", "model"] = "heuristic",
        clock: Callable[[], float] = time.time,
    ):
        if scope not in SCOPES:
            raise ConfigurationError(
                f"MemoryManager(scope={scope!r}): use 'agent', 'network' or 'user'."
            )
        check_int(max_memories, "max_memories", minimum=1, owner="MemoryManager: ")
        check_int(top_k, "top_k", minimum=1, owner="MemoryManager: ")
        check_number(reflection_threshold, "reflection_threshold", above=0, owner="MemoryManager: ")
        if importance not in ("heuristic", "model"):
            raise ConfigurationError(
                f"MemoryManager(importance={importance!r}): use 'heuristic' or 'model'."
            )
        self.store: VectorMemoryStore = store if store is not None else VectorMemoryStore()
        self.enable_reflection = enable_reflection
        self.max_memories = max_memories
        self.top_k = top_k
        self.scope: MemoryScope = scope
        self.weights: RetrievalWeights = weights or RetrievalWeights()
        self.reflection_threshold = reflection_threshold
        self.importance = importance
        self.clock = clock
        self.agents: list[str] = []
        """The agents this manager is attached to."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._pending: set[asyncio.Task[Any]] = set()
        self._counts: dict[str, int] = {}
        """Namespace -> memories it holds, as this process last counted them."""
        self._dimension: int | None = None

    # -- namespaces ------------------------------------------------------------------

    def namespace(
        self, *, agent: str | None = None, network: str | None = None, user_id: str | None = None
    ) -> str:
        """The namespace memories of this scope live in.

        Raises:
            ConfigurationError: the scope's key (agent, network or user id) is missing.
        """
        if self.scope == "user":
            if not user_id:
                raise ConfigurationError(
                    "This memory has scope='user': pass user_id=... (to run(), or to the "
                    "memory call) so memories stay with their user."
                )
            return f"user:{user_id}"
        if self.scope == "network":
            return f"network:{network or 'default'}"
        agent = agent or (self.agents[0] if len(self.agents) == 1 else None)
        if not agent:
            raise ConfigurationError(
                "This memory has scope='agent' and serves several agents (or none): pass "
                f"agent=... to say whose memories; attached to {self.agents!r}."
            )
        return f"agent:{agent}"

    async def _vectors(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = await self.store.embed(texts)
        if vectors:
            self._dimension = len(vectors[0])
        return vectors

    async def _dim(self) -> int:
        if self._dimension is None:
            await self._vectors(["dimension probe"])
        assert self._dimension is not None
        return self._dimension

    async def warmup(self) -> None:
        """Load the embedding model and open the collection now, so the first turn does
        not wait for them (the local MiniLM takes seconds to load). Idempotent.

        Raises:
            ConfigurationError: the collection holds another model's or dimension's vectors.
            StoreError: Chroma cannot be reached.
        """
        await self.store.call(await self._dim(), "count")  # opens (and checks) the collection

    # -- the explicit API ------------------------------------------------------------

    async def add(
        self,
        text: str,
        *,
        kind: MemoryKind = "fact",
        importance: float | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
        agent: str | None = None,
        network: str | None = None,
        user_id: str | None = None,
        thread_id: str | None = None,
        sources: Sequence[str] = (),
        memory_id: str | None = None,
    ) -> Memory:
        """Store a memory (``memory_id`` replaces one with that id), then evict over the cap.

        Raises:
            ConfigurationError: empty text, an unknown kind, importance outside 0-10, or
                the scope's key is missing.
        """
        if not isinstance(text, str) or not text.strip():
            raise ConfigurationError(f"Memory text {text!r} is empty; pass what to remember.")
        if kind not in KINDS:
            raise ConfigurationError(
                f"Memory kind {kind!r}: use 'observation', 'reflection' or 'fact'."
            )
        if importance is not None and not 0 <= importance <= 10:
            raise ConfigurationError(f"Memory importance {importance!r}: use 0-10.")
        namespace = self.namespace(agent=agent, network=network, user_id=user_id)
        now = self.clock()
        meta: dict[str, Any] = {
            "kind": kind,
            "importance": float(heuristic_importance(text) if importance is None else importance),
            "created_at": now,
            "last_accessed": now,
            "namespace": namespace,
            "agent": agent or "",
            "thread_id": thread_id or "",
            "user_id": user_id or "",
            "sources": ",".join(sources),
            "covered": False,
        }
        for key, value in (metadata or {}).items():
            meta[f"user.{key}"] = value
        replacing = memory_id is not None
        memory_id = memory_id or f"mem_{uuid.uuid4().hex[:20]}"
        [vector] = await self._vectors([text])
        dimension = len(vector)
        async with self._lock(namespace):
            count = await self._cached_count(namespace, dimension)
            existed = replacing and bool(
                (await self.store.call(dimension, "get", ids=[memory_id], include=[])).get("ids")
            )
            await self.store.call(
                dimension,
                "upsert",
                ids=[memory_id],
                embeddings=[vector],
                documents=[text],
                metadatas=[meta],
            )
            self._counts[namespace] = count + (0 if existed else 1)
            # Near the cap, count what Chroma holds (other processes write too).
            if self._counts[namespace] >= self.max_memories:
                await self._evict(namespace)
        return memory_from_row(StoredMemory(memory_id, text, meta))

    async def search(
        self,
        query: str,
        k: int | None = None,
        *,
        agent: str | None = None,
        network: str | None = None,
        user_id: str | None = None,
        touch: bool = True,
    ) -> list[Memory]:
        """The ``k`` (default ``top_k``) best memories for ``query``, best first.

        ``touch`` updates their last-accessed time, in the background (`flush` waits).
        """
        namespace = self.namespace(agent=agent, network=network, user_id=user_id)
        k = k or self.top_k
        [vector] = await self._vectors([query])
        found = rows(
            await self.store.call(
                len(vector),
                "query",
                query_embeddings=[vector],
                n_results=max(k, self.weights.candidates),
                where={"namespace": namespace},
                include=["documents", "metadatas", "distances"],
            ),
            nested=True,
        )
        ranked = self.rank(found)[:k]
        if touch and ranked:
            # The last-accessed update is a write: it goes on in the background, so
            # recall costs one query. `flush()` (a run does it) waits for it.
            now = self.clock()
            update = self.store.call(
                len(vector),
                "update",
                ids=[m.id for m in ranked],
                metadatas=[{"last_accessed": now} for _ in ranked],
            )
            task = asyncio.ensure_future(update)
            self._pending.add(task)
            task.add_done_callback(self._touched)
        return ranked

    def _touched(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("Updating recalled memories' last access failed: %s", task.exception())

    async def flush(self) -> None:
        """Wait for the background last-accessed updates of earlier searches."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def rank(self, found: Sequence[StoredMemory]) -> list[Memory]:
        """``found`` scored and sorted as recall does (best first)."""
        return rank(found, self.weights, self.clock())

    async def forget(self, memory_id: str) -> bool:
        """Delete a memory; whether it existed."""
        dimension = await self._dim()
        existing = await self.store.call(dimension, "get", ids=[memory_id], include=[])
        if not existing.get("ids"):
            return False
        await self.store.call(dimension, "delete", ids=[memory_id])
        self._counts.clear()  # recounted on the next write
        return True

    async def clear(
        self, *, agent: str | None = None, network: str | None = None, user_id: str | None = None
    ) -> int:
        """Delete every memory of the namespace; how many there were."""
        namespace = self.namespace(agent=agent, network=network, user_id=user_id)
        dimension = await self._dim()
        found = await self.store.call(dimension, "get", where={"namespace": namespace}, include=[])
        ids = list(found.get("ids") or [])
        if ids:
            await self.store.call(dimension, "delete", ids=ids)
        self._counts[namespace] = 0
        return len(ids)

    async def count(
        self, *, agent: str | None = None, network: str | None = None, user_id: str | None = None
    ) -> int:
        """How many memories the namespace holds."""
        namespace = self.namespace(agent=agent, network=network, user_id=user_id)
        return await self._count(namespace, await self._dim())

    async def all(
        self, *, agent: str | None = None, network: str | None = None, user_id: str | None = None
    ) -> list[Memory]:
        """Every memory of the namespace, oldest first (after the pending updates)."""
        await self.flush()
        namespace = self.namespace(agent=agent, network=network, user_id=user_id)
        found = await self._rows(namespace, await self._dim())
        return sorted((memory_from_row(r) for r in found), key=lambda m: (m.created_at, m.id))

    # -- internals -------------------------------------------------------------------

    def _lock(self, namespace: str) -> asyncio.Lock:
        lock = self._locks.get(namespace)
        if lock is None:
            lock = self._locks[namespace] = asyncio.Lock()
        return lock

    async def _cached_count(self, namespace: str, dimension: int) -> int:
        if namespace not in self._counts:
            self._counts[namespace] = await self._count(namespace, dimension)
        return self._counts[namespace]

    async def _count(self, namespace: str, dimension: int) -> int:
        found = await self.store.call(dimension, "get", where={"namespace": namespace}, include=[])
        return len(found.get("ids") or [])

    async def _rows(self, namespace: str, dimension: int, **where: Any) -> list[StoredMemory]:
        condition: dict[str, Any] = {"namespace": namespace}
        if where:
            condition = {"$and": [{"namespace": namespace}, *({k: v} for k, v in where.items())]}
        return rows(
            await self.store.call(
                dimension, "get", where=condition, include=["documents", "metadatas"]
            ),
            nested=False,
        )

    async def _evict(self, namespace: str) -> None:
        dimension = await self._dim()
        found = await self._rows(namespace, dimension)
        excess = len(found) - self.max_memories
        if excess <= 0:
            self._counts[namespace] = len(found)
            return
        now, decay = self.clock(), self.weights.decay
        doomed = sorted(found, key=lambda row: retention(row, now, decay))[:excess]
        await self.store.call(dimension, "delete", ids=[row.id for row in doomed])
        self._counts[namespace] = len(found) - len(doomed)
        logger.debug("Evicted %d memories from %s", len(doomed), namespace)
