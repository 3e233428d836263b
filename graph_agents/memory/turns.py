"""What an agent's turns write to memory: the exchange, and a reflection when one is due.

The exchange is stored as an ``observation`` under an id derived from a key the caller
makes stable (thread, graph task, agent), so a step that runs again replaces its memory
instead of adding a copy. Its importance is the heuristic's, or the agent's model's when
the manager has ``importance="model"``. A reflection is due once the importance of the
observations not yet reflected on passes the manager's ``reflection_threshold``; its
insights cite the observations they came from, which then count as covered (eviction
prefers them).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from .reflection import draw_insights, rate_importance

if TYPE_CHECKING:
    from .manager import Memory, MemoryManager

__all__ = ["reflect_if_due", "remember_exchange"]

logger: logging.Logger = logging.getLogger("graph_agents.memory")


async def remember_exchange(
    memory: MemoryManager,
    *,
    request: str,
    answer: str,
    agent: str,
    network: str | None,
    user_id: str | None,
    thread_id: str,
    key: str,
    model: Any = None,
) -> Memory:
    """Store one turn's exchange as an observation, under an id derived from ``key``
    (so storing the same turn again replaces it)."""
    text = f"User: {request.strip()}\n{agent}: {answer.strip()}"
    importance = None
    if memory.importance == "model" and model is not None:
        importance = await rate_importance(model, text)
    memory_id = "obs_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return await memory.add(
        text,
        kind="observation",
        importance=importance,
        agent=agent,
        network=network,
        user_id=user_id,
        thread_id=thread_id,
        memory_id=memory_id,
    )


async def reflect_if_due(
    memory: MemoryManager,
    model: Any,
    *,
    agent: str | None = None,
    network: str | None = None,
    user_id: str | None = None,
) -> list[Memory]:
    """Reflect when the unreflected observations' importance passes the threshold;
    the reflections stored (none when it is not time, or when reflecting failed)."""
    namespace = memory.namespace(agent=agent, network=network, user_id=user_id)
    dimension = await memory._dim()
    pending = await memory._rows(namespace, dimension, kind="observation", covered=False)
    if sum(float(r.metadata.get("importance") or 0.0) for r in pending) < (
        memory.reflection_threshold
    ):
        return []
    recent = sorted(pending, key=lambda r: float(r.metadata.get("created_at") or 0.0))[-20:]
    try:
        insights = await draw_insights(model, [r.text for r in recent])
    except Exception:
        logger.warning(
            "Reflection on %d memories of %s failed; it is retried after the next write",
            len(recent),
            namespace,
            exc_info=True,
        )
        return []
    sources = [r.id for r in recent]
    made = []
    for insight in insights:
        made.append(
            await memory.add(
                insight,
                kind="reflection",
                importance=8.0,
                agent=agent,
                network=network,
                user_id=user_id,
                sources=sources,
            )
        )
    if made:
        await memory.store.call(
            dimension,
            "update",
            ids=sources,
            metadatas=[{"covered": True} for _ in sources],
        )
    return made
