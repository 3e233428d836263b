"""PostgreSQL: shared pools, set-up once, thread locks that pin no pooled connection,
and fenced checkpoint writes.

**Connections.** Per process, event loop and store (DSN and pool size) there is one
connection pool of ``pool_size`` connections and one *lock connection* beside it. A run
borrows a pooled connection only for the length of one statement group and never holds
one while it waits for another, so any number of concurrent runs share the pool: they
queue for it first come, first served, and complete.

**Thread locks.** A run holds its thread through a session advisory lock on the shared
lock connection (one connection for all of the process's runs), plus a row in
``graph_agents_thread_leases`` whose ``fence`` grows by one with every acquisition. When
a holder dies, PostgreSQL ends its session and frees the lock at once, so the next run
takes the thread over without waiting out a lease.

**Fencing.** Every checkpoint write runs in one transaction that first calls
``graph_agents_check_lease``: the lease row must still carry the run's owner and fence
(it is read ``FOR SHARE``, so a takeover waits until the write commits) and the advisory
lock must still be held by the run's lock connection. A run whose lock connection died,
or whose thread another process took over, therefore cannot write another checkpoint:
its next write fails with `LEASE_LOST` and the run stops. A takeover reads the thread
only after its fence update, so it always sees every write the old holder committed:
a thread's history never forks.

**Throughput.** LangGraph's ``AsyncPostgresSaver`` runs every operation behind one
``asyncio.Lock`` per saver (langgraph issue 7259), even with a pool. `FencedPostgresSaver`
does not take it: the pool itself bounds the concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import select
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConcurrentRunError
from .errors import redact
from .serde import Primitive

__all__ = [
    "LEASE_LOST",
    "Lease",
    "PostgresConnections",
    "current_lease",
    "fenced_saver_class",
    "holding",
    "shared_connections",
]

logger = logging.getLogger("graph_agents.checkpoints")

LEASES = "graph_agents_thread_leases"
LEASE_LOST = "GA001"
"""The SQLSTATE a fenced write fails with when another run took its thread over."""
LOCK_LOST = "GA002"
"""The SQLSTATE a fenced write fails with when its lock connection's session ended."""

_SETUP_KEY = -0x67615F7365747570  # "ga_setup": serializes schema set-up across processes

_LEASE_SQL = f"""
CREATE TABLE IF NOT EXISTS {LEASES} (
    thread_id TEXT PRIMARY KEY,
    owner TEXT,
    fence BIGINT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION graph_agents_check_lease(
    p_thread TEXT, p_owner TEXT, p_fence BIGINT, p_pid INTEGER, p_class OID, p_obj OID
) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM {LEASES}
        WHERE thread_id = p_thread AND owner = p_owner AND fence = p_fence FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'graph_agents: this run no longer holds its thread (taken over)'
            USING ERRCODE = '{LEASE_LOST}';
    END IF;
    PERFORM 1 FROM pg_locks
        WHERE locktype = 'advisory' AND pid = p_pid AND classid = p_class
          AND objid = p_obj AND objsubid = 1 AND granted;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'graph_agents: this run no longer holds its thread (lock connection lost)'
            USING ERRCODE = '{LOCK_LOST}';
    END IF;
END $$;
"""

_ACQUIRE_SQL = f"""
WITH locked AS (SELECT pg_try_advisory_lock(%(key)s) AS ok)
INSERT INTO {LEASES} (thread_id, owner, fence)
SELECT %(thread)s, %(owner)s, 1 FROM locked WHERE locked.ok
ON CONFLICT (thread_id) DO UPDATE
    SET owner = excluded.owner, fence = {LEASES}.fence + 1, acquired_at = now()
RETURNING fence, pg_backend_pid() AS pid
"""

_RECOVER_SQL = f"""
WITH locked AS (SELECT pg_try_advisory_lock(%(key)s) AS ok)
SELECT locked.ok AS locked, pg_backend_pid() AS pid,
    (SELECT fence FROM {LEASES} WHERE thread_id = %(thread)s AND owner = %(owner)s) AS fence
FROM locked
"""

_RELEASE_SQL = f"""
WITH cleared AS (
    UPDATE {LEASES} SET owner = NULL WHERE thread_id = %(thread)s AND owner = %(owner)s
)
SELECT pg_advisory_unlock(%(key)s) AS released
"""


def _lock_key(thread_id: str) -> int:
    digest = hashlib.blake2b(thread_id.encode(), digest_size=8, person=b"ga-lock").digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass
class Lease:
    """A run's hold on a thread: what its fenced writes prove they still have."""

    thread_id: str
    owner: str
    fence: int
    pid: int
    """The backend pid of the lock connection that holds the advisory lock."""
    key: int
    recovering: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    def check_params(self) -> tuple[Any, ...]:
        """The arguments of ``graph_agents_check_lease`` for this lease."""
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        return (
            self.thread_id,
            self.owner,
            self.fence,
            self.pid,
            unsigned >> 32,
            unsigned & 0xFFFFFFFF,
        )


_LEASE: ContextVar[Lease | None] = ContextVar("graph_agents_lease", default=None)


def current_lease() -> Lease | None:
    """The lease of the run this task belongs to (``None`` outside a Postgres run)."""
    return _LEASE.get()


@dataclass(eq=False)
class PostgresConnections:
    """One store's pool and lock connection in one event loop; see the module docstring."""

    dsn: str
    pool_size: int
    pool: Any = None
    users: int = 0
    _lock_conn: Any = None
    set_up: bool = False
    _connecting: asyncio.Lock = field(default_factory=asyncio.Lock)
    _setup_guard: asyncio.Lock = field(default_factory=asyncio.Lock)
    _ready: asyncio.Future[None] | None = None

    async def open(self) -> None:
        """Open the pool and set the schema up, once however many runs start together."""
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            try:
                await self._open()
            except BaseException as exc:
                failed, self._ready = self._ready, None
                if isinstance(exc, Exception):
                    failed.set_exception(exc)
                    failed.exception()  # marked retrieved; the waiters re-raise it
                else:
                    failed.cancel()
                raise
            self._ready.set_result(None)
            return
        await asyncio.shield(self._ready)

    async def _open(self) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            self.dsn,
            min_size=1,
            max_size=self.pool_size,
            open=False,
            check=_check_connection,
            kwargs={
                "autocommit": True,
                "prepare_threshold": None,
                "row_factory": dict_row,
                "application_name": "graph_agents",
            },
        )
        try:
            await pool.open(wait=True, timeout=10)
        except BaseException:
            await pool.close()
            raise
        self.pool = pool

    async def ensure_setup(self, *steps: Callable[[], Awaitable[None]]) -> None:
        """Create the tables (``steps``, then the lease table) once in this process, behind
        a database-wide advisory lock, so processes starting together take turns."""
        async with self._setup_guard:
            if self.set_up:
                return
            conn = await self._lock_connection()
            # Poll rather than wait inside pg_advisory_lock(): a waiting statement holds a
            # snapshot, and the set-up's CREATE INDEX CONCURRENTLY waits for every
            # snapshot to go, so two processes would wait for each other forever.
            while True:
                cursor = await conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_SETUP_KEY,))
                row = await cursor.fetchone()
                if row and row["ok"]:
                    break
                await asyncio.sleep(0.05)
            try:
                for step in steps:
                    await step()
                async with self.pool.connection() as setup:
                    await setup.execute(_LEASE_SQL)
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_KEY,))
            self.set_up = True

    async def _lock_connection(self) -> Any:
        import psycopg
        from psycopg.rows import dict_row

        async with self._connecting:
            conn = self._lock_conn
            if conn is None or conn.closed or conn.broken:
                conn = self._lock_conn = await psycopg.AsyncConnection.connect(
                    self.dsn,
                    autocommit=True,
                    row_factory=dict_row,
                    application_name="graph_agents lock",
                )
            return conn

    async def acquire(self, thread_id: str) -> Lease:
        """Take ``thread_id``'s lock and lease.

        Raises:
            ConcurrentRunError: another run (here or in another process) holds it.
            psycopg.Error: the database failed twice in a row (the caller translates it).
        """
        key = _lock_key(thread_id)
        owner = uuid.uuid4().hex
        row = await self._locking(_ACQUIRE_SQL, {"key": key, "thread": thread_id, "owner": owner})
        if row is None:
            raise ConcurrentRunError(
                f"Thread {thread_id!r} already has a run in progress in another process. "
                "Wait for it to finish, or use another thread_id.",
                thread_id=thread_id,
            )
        return Lease(thread_id, owner, int(row["fence"]), int(row["pid"]), key)

    async def _locking(self, sql: str, params: dict[str, Any]) -> Any:
        """Run ``sql`` on the lock connection and return its row; once more on a new
        connection when the current one turns out dead (the database restarted, or the
        session was killed): its locks went with it, so trying again at once is safe."""
        import psycopg

        for attempt in (1, 2):
            conn = await self._lock_connection()
            try:
                return await (await conn.execute(sql, params)).fetchone()
            except psycopg.OperationalError:
                if attempt == 2 or not (conn.closed or conn.broken):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def release(self, lease: Lease) -> None:
        """Give the thread back. Never raises: a failure is logged (a dead connection has
        released its locks already; the lease row is fenced off by the next holder)."""
        conn = self._lock_conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            await conn.execute(
                _RELEASE_SQL, {"thread": lease.thread_id, "owner": lease.owner, "key": lease.key}
            )
        except Exception as exc:
            logger.warning(
                "Could not release the lock of a thread on %s (%s: %s); the run's outcome "
                "stands, and the lock ends with its connection.",
                redact(self.dsn),
                type(exc).__name__,
                exc,
            )

    async def recover(self, lease: Lease) -> bool:
        """After the lock connection's session ended, take ``lease``'s lock again on a new
        one, if no other run took the thread in between (its fence is unchanged).

        Returns:
            Whether the lease holds again (the run may write on).
        """
        import psycopg

        async with lease.recovering:
            conn = await self._lock_connection()
            if conn.info.backend_pid == lease.pid:
                # Another write of the run recovered it already, if that session lives.
                try:
                    await conn.execute("SELECT 1")
                    return True
                except psycopg.OperationalError:
                    if not (conn.closed or conn.broken):
                        raise
            params = {"key": lease.key, "thread": lease.thread_id, "owner": lease.owner}
            row = await self._locking(_RECOVER_SQL, params)
            if row is None or not row["locked"]:
                return False
            if row["fence"] != lease.fence:
                await self._locking("SELECT pg_advisory_unlock(%(key)s)", params)
                return False
            lease.pid = int(row["pid"])
            return True

    async def close(self) -> None:
        """Close the lock connection and the pool."""
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                await self._lock_conn.close()
            self._lock_conn = None
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


async def _check_connection(conn: Any) -> None:
    """The pool's check before lending a connection: zero round trips.

    An idle connection has nothing to read. A server that ended the session (a restart,
    ``pg_terminate_backend``) has sent its farewell and closed the socket, so a socket
    with anything to read is not lent out; the pool drops it and lends another.
    """
    import psycopg

    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    if readable:
        # Closed first: the pool takes back a failed connection, and keeps it unless it
        # is closed.
        await conn.close()
        raise psycopg.OperationalError("the server ended the pooled connection's session")


_SHARED: dict[tuple[asyncio.AbstractEventLoop, str, int], PostgresConnections] = {}


@contextlib.asynccontextmanager
async def shared_connections(dsn: str, pool_size: int) -> AsyncIterator[PostgresConnections]:
    """The pool and lock connection of ``(dsn, pool_size)`` in this event loop, opened on
    first use and closed when the last user leaves."""
    key = (asyncio.get_running_loop(), dsn, pool_size)
    connections = _SHARED.get(key)
    if connections is None:
        connections = _SHARED[key] = PostgresConnections(dsn, pool_size)
    connections.users += 1
    try:
        await connections.open()
        yield connections
    finally:
        connections.users -= 1
        if connections.users == 0 and _SHARED.get(key) is connections:
            del _SHARED[key]
            await connections.close()


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

        Writes (``pipeline=True`` cursors: checkpoints, pending writes, deletions) run in
        one transaction each, which first checks the run's `Lease` when it has one.
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
                lease = _LEASE.get()
                async with (
                    conn.pipeline(),
                    conn.transaction(),
                    conn.cursor(binary=True, row_factory=dict_row) as cur,
                ):
                    if lease is not None:
                        await cur.execute(
                            "SELECT graph_agents_check_lease(%s, %s, %s, %s, %s, %s)",
                            lease.check_params(),
                        )
                    yield cur

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
            for delay in (0.05, 0.2, 0.75, None):
                try:
                    return await operation()
                except psycopg.Error as exc:
                    if delay is None or not await self._may_retry(exc):
                        raise
                await asyncio.sleep(delay)

        async def _may_retry(self, exc: BaseException) -> bool:
            state = getattr(exc, "sqlstate", None)
            lease = _LEASE.get()
            if state == LOCK_LOST and lease is not None:
                return await self.connections.recover(lease)
            return isinstance(exc, psycopg.OperationalError) and not isinstance(exc, PoolTimeout)

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


@contextlib.contextmanager
def holding(lease: Lease | None) -> Any:
    """Make ``lease`` the current run's lease for the block (its tasks inherit it)."""
    token = _LEASE.set(lease)
    try:
        yield
    finally:
        _LEASE.reset(token)
