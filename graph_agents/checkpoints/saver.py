"""The checkpoint saver graph_agents opens on PostgreSQL: LangGraph's, fenced and faster.

**Fencing.** Every write of a run that holds a `Lease` (see
`graph_agents.checkpoints.postgres`) is made conditional on it, in the same statement.

**Throughput.** LangGraph's ``AsyncPostgresSaver`` runs every operation behind one
``asyncio.Lock`` per saver (langgraph issue 7259), even with a pool. `FencedPostgresSaver`
does not take it: the pool itself bounds the concurrency. It also sends each step's
blobs and pending writes as one statement over arrays rather than one per row, and
retries reads and idempotent writes after a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .leases import Lease, LockLost, current_lease
from .postgres import PostgresConnections
from .serde import Primitive

__all__ = ["fenced_saver_class"]


@functools.cache
def fenced_saver_class(*, encrypted: bool = False) -> Any:
    """The saver class for graph_agents' Postgres stores (built on first use: the
    ``postgres`` extra is optional)."""
    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import PoolTimeout

    class FencedPostgresSaver(AsyncPostgresSaver):
        """``AsyncPostgresSaver`` without its per-saver lock, with fenced writes.

        Writes (``pipeline=True`` cursors) go through `_FencedCursor`: each batch of
        rows is one statement, which checks the run's `Lease` when it has one.
        Checkpoint writes are upserts, so one that failed on a dropped connection (or a
        dropped lock connection whose lock could be taken back) is made again, and so
        are the reads a run starts with.
        """

        connections: PostgresConnections

        @contextlib.asynccontextmanager
        async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[Any]:
            pool: Any = self.conn
            async with pool.connection() as conn:
                if not pipeline:
                    async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                        yield cur
                    return
                async with (
                    conn.pipeline(),
                    conn.cursor(binary=True, row_factory=dict_row) as cur,
                ):
                    yield _FencedCursor(cur, self, current_lease())

        async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            put = super().aput
            return await self._retrying(lambda: put(config, checkpoint, metadata, new_versions))

        async def aput_writes(
            self, config: Any, writes: Any, task_id: str, task_path: str = ""
        ) -> None:
            put = super().aput_writes
            await self._retrying(lambda: put(config, writes, task_id, task_path))

        async def aget_tuple(self, config: Any) -> Any:
            get = super().aget_tuple
            return await self._retrying(lambda: get(config))

        async def aget_delta_channel_history(self, *, config: Any, channels: Any) -> Any:
            get = super().aget_delta_channel_history
            return await self._retrying(lambda: get(config=config, channels=channels))

        async def _retrying(self, operation: Callable[[], Awaitable[Any]]) -> Any:
            """Run a read or a write (an idempotent upsert), again after a dropped
            connection or lock connection, for about a second; never after a takeover."""
            lease = current_lease()
            for delay in (0.05, 0.2, 0.75, None):
                try:
                    if lease is not None and not await self._holds(lease):
                        raise LockLost(
                            f"Lost the lock of thread {lease.thread_id!r}: its lock connection "
                            "ended, and another run has taken the thread since."
                        )
                    return await operation()
                except psycopg.OperationalError as exc:
                    if delay is None or isinstance(exc, PoolTimeout):
                        raise
                await asyncio.sleep(delay)

        async def _holds(self, lease: Lease) -> bool:
            # Known locally, without a round trip, in all but the rarest case; when the
            # lock connection is gone, take the lock back if nobody took the thread.
            if self.connections.lock_alive(lease):
                return True
            return await self.connections.recover(lease)

    if not encrypted:
        return FencedPostgresSaver

    class EncryptedPostgresSaver(FencedPostgresSaver):
        """Stores plain values (text, numbers) as encrypted blobs too.

        ``AsyncPostgresSaver`` keeps a checkpoint's plain channel values inline, as JSON
        beside it, where no serializer sees them: the query and the answer would be
        stored in clear text.
        """

        async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            values = {
                key: Primitive(value)
                if value is None or isinstance(value, (str, int, float, bool))
                else value
                for key, value in checkpoint["channel_values"].items()
            }
            boxed: Any = {**checkpoint, "channel_values": values}
            return await super().aput(config, boxed, metadata, new_versions)

    return EncryptedPostgresSaver


_FENCE = "graph_agents_holds_lease(%s, %s, %s, %s, %s)"

_BATCHED_BLOBS_SQL = """
INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bytea[])
WHERE {fence}
ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
"""

_BATCHED_WRITES_SQL = """
INSERT INTO checkpoint_writes
    (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT * FROM unnest(
    %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int[], %s::text[],
    %s::text[], %s::bytea[])
WHERE {fence}
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING
"""

_FENCED_SPECIAL_WRITE_SQL = """
INSERT INTO checkpoint_writes
    (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT %s::text, %s::text, %s::text, %s::text, %s::text, %s::int, %s::text, %s::text, %s::bytea
WHERE {fence}
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET
    channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob
"""

_FENCED_CHECKPOINT_SQL = """
INSERT INTO checkpoints
    (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
SELECT %s::text, %s::text, %s::text, %s::text, %s::jsonb, %s::jsonb WHERE {fence}
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata
"""


class _FencedCursor:
    """The cursor `FencedPostgresSaver` hands the base saver's writes.

    ``AsyncPostgresSaver`` sends one statement per row (``executemany``): a run of this
    library writes some twenty channels per step, so that is most of the database's
    work. This cursor sends each batch of checkpoint blobs and pending writes as one
    statement over arrays instead, and, when the run holds a `Lease`, makes every
    statement conditional on it (``WHERE graph_agents_holds_lease(...)``, which raises
    when the lease is gone): a single statement is atomic, so no write lands without
    the fence holding, and the lease row stays locked until it commits. Anything else
    (deleting a thread) passes through unchanged.
    """

    def __init__(self, cursor: Any, saver: Any, lease: Lease | None):
        self._cursor = cursor
        self._saver = saver
        self._fence = () if lease is None else lease.check_params()
        self._where = "TRUE" if lease is None else _FENCE

    async def execute(self, query: Any, params: Any = None) -> Any:
        if query is self._saver.UPSERT_CHECKPOINTS_SQL:
            sql = _FENCED_CHECKPOINT_SQL.format(fence=self._where)
            return await self._cursor.execute(sql, (*params, *self._fence))
        return await self._cursor.execute(query, params)

    async def executemany(self, query: Any, rows: Any) -> None:
        rows = list(rows)
        if query is self._saver.UPSERT_CHECKPOINT_BLOBS_SQL:
            sql = _BATCHED_BLOBS_SQL
        elif query is self._saver.INSERT_CHECKPOINT_WRITES_SQL:
            sql = _BATCHED_WRITES_SQL
            # The saver's rows put task_path after task_id: (..., task_id, task_path, idx,
            # channel, type, blob); the columns above are in that order.
        elif query is self._saver.UPSERT_CHECKPOINT_WRITES_SQL:
            # Interrupts, errors and resumes update in place, so one row per statement.
            sql = _FENCED_SPECIAL_WRITE_SQL.format(fence=self._where)
            await self._cursor.executemany(sql, [(*row, *self._fence) for row in rows])
            return
        else:
            await self._cursor.executemany(query, rows)
            return
        if not rows:
            return
        columns = [list(column) for column in zip(*rows, strict=True)]
        await self._cursor.execute(sql.format(fence=self._where), (*columns, *self._fence))
