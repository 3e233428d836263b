"""Which threads a store holds: the newest checkpoint id of each, without decoding any
checkpoint (a blob written with another key or type allowlist does not stop a listing).

SQLite and PostgreSQL answer with one ``GROUP BY`` over LangGraph's ``checkpoints``
table (checkpoint ids are time-ordered UUIDs, so the largest is the newest); any other
saver is walked with ``alist``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["latest_threads"]

_QUERY = (
    "SELECT thread_id, MAX(checkpoint_id) AS latest FROM checkpoints "
    "WHERE checkpoint_ns = '' GROUP BY thread_id ORDER BY latest DESC, thread_id LIMIT {}"
)


async def latest_threads(saver: Any, limit: int) -> list[str]:
    """The ids of the ``limit`` threads of ``saver`` updated last, newest first."""
    kind = _kind(saver)
    if kind == "sqlite":
        async with saver.lock:
            cursor = await saver.conn.execute(_QUERY.format("?"), (limit,))
            rows = await cursor.fetchall()
        return [str(row[0]) for row in rows]
    if kind == "postgres":
        async with saver.conn.connection() as conn, conn.cursor() as cursor:
            await cursor.execute(_QUERY.format("%s"), (limit,))
            rows = await cursor.fetchall()
        return [str(row["thread_id"] if isinstance(row, dict) else row[0]) for row in rows]
    latest: dict[str, str] = {}
    async for item in saver.alist(None):
        configurable = item.config.get("configurable", {})
        if configurable.get("checkpoint_ns", ""):
            continue  # a subgraph's (parallel branch) checkpoint
        thread = str(configurable.get("thread_id"))
        checkpoint = str(configurable.get("checkpoint_id", ""))
        if checkpoint > latest.get(thread, ""):
            latest[thread] = checkpoint
    return sorted(latest, key=lambda t: (latest[t], t), reverse=True)[:limit]


def _kind(saver: Any) -> str:
    try:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        if isinstance(saver, AsyncSqliteSaver):
            return "sqlite"
    except ImportError:
        pass
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        if isinstance(saver, AsyncPostgresSaver):
            return "postgres"
    except ImportError:
        pass
    return "other"
