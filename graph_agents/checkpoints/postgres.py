"""PostgreSQL: shared pools, set-up once, thread locks that pin no pooled connection,
and fenced checkpoint writes.

**Connections.** Per process, event loop and store (DSN and pool size) there is one
connection pool of ``pool_size`` connections and one *lock connection* beside it. A run
borrows a pooled connection only for the length of one statement group and never holds
one while it waits for another, so any number of concurrent runs share the pool: they
queue for it first come, first served, and complete.

Thread locks, leases and fencing are in `graph_agents.checkpoints.leases`; the
saver itself is in `graph_agents.checkpoints.saver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .._once import fail
from .errors import redact
from .leases import (
    ACQUIRE_SQL,
    LEASE_SETUP_SQL,
    RECOVER_SQL,
    RELEASE_SQL,
    Lease,
    halves,
    lock_key,
)

__all__ = ["PostgresConnections", "shared_connections"]

logger: logging.Logger = logging.getLogger("graph_agents.checkpoints")

_SETUP_KEY = -0x67615F7365747570  # "ga_setup": serializes schema set-up across processes


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
                fail(failed, exc)
                raise
            self._ready.set_result(None)
            return
        await asyncio.shield(self._ready)

    async def _open(self) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        # The lock connection first: a server that refuses connections fails this at
        # once, where the pool would keep trying until its timeout.
        await self._lock_connection()

        pool = AsyncConnectionPool(
            self.dsn,
            min_size=1,
            max_size=self.pool_size,
            open=False,
            check=_check_connection,
            kwargs={
                "autocommit": True,
                "prepare_threshold": 0,
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
                    await setup.execute(LEASE_SETUP_SQL, prepare=False)
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

    async def acquire(self, thread_id: str) -> Lease | None:
        """Take ``thread_id``'s lock and lease; ``None`` when another run (here or in
        another process) holds it.

        Raises:
            psycopg.Error: the database failed twice in a row (the caller translates it).
        """
        key = lock_key(thread_id)
        owner = uuid.uuid4().hex
        hi, lo = halves(key)
        params = {"key": key, "hi": hi, "lo": lo, "thread": thread_id, "owner": owner}
        row = await self._locking(ACQUIRE_SQL, params)
        if row is None:
            return None
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
                RELEASE_SQL, {"thread": lease.thread_id, "owner": lease.owner, "key": lease.key}
            )
        except Exception as exc:
            logger.warning(
                "Could not release the lock of a thread on %s (%s: %s); the run's outcome "
                "stands, and the lock ends with its connection.",
                redact(self.dsn),
                type(exc).__name__,
                exc,
            )

    def lock_alive(self, lease: Lease) -> bool:
        """Whether ``lease``'s lock connection is, as far as can be told without asking
        the server, alive (a server that ended the session has closed its socket)."""
        conn = self._lock_conn
        if conn is None or conn.closed or conn.broken or conn.info.backend_pid != lease.pid:
            return False
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
        return not readable

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
            row = await self._locking(RECOVER_SQL, params)
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
