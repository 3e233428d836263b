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

**Fencing.** Every checkpoint write is one statement conditional on
``graph_agents_holds_lease``: the lease row must still carry the run's owner and fence.
Each write holds a shared advisory lock of the thread until it commits and a takeover
updates the fence under the exclusive one, so the update waits for writes in flight,
and a takeover reads the thread only after that update: it sees every write the old
holder committed, and the old holder's later writes fail (`LEASE_LOST`). A thread's
history never forks. Before each write the run also checks, without a round trip, that
its lock connection lives; when it has died, the run takes its lock back on a new one
if no other run has taken the thread meanwhile (the fence is unchanged), and otherwise
stops with `LockLost` before writing anything more.

The saver itself is in `graph_agents.checkpoints.saver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import select
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .._once import fail
from .errors import redact

__all__ = [
    "LEASE_LOST",
    "Lease",
    "LockLost",
    "PostgresConnections",
    "current_lease",
    "holding",
    "shared_connections",
]

logger: logging.Logger = logging.getLogger("graph_agents.checkpoints")

LEASES = "graph_agents_thread_leases"
LEASE_LOST = "GA001"
"""The SQLSTATE a fenced write fails with when another run took its thread over."""

_SETUP_KEY = -0x67615F7365747570  # "ga_setup": serializes schema set-up across processes

_LEASE_SQL = f"""
CREATE TABLE IF NOT EXISTS {LEASES} (
    thread_id TEXT PRIMARY KEY,
    owner TEXT,
    fence BIGINT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION graph_agents_holds_lease(
    p_thread TEXT, p_owner TEXT, p_fence BIGINT, p_hi INTEGER, p_lo INTEGER
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    -- Shared with every other write of the thread, exclusive against a takeover's
    -- fence update (see _ACQUIRE_SQL): held until this write commits. An advisory lock
    -- lives in memory; a row lock (FOR SHARE) would write the lease row every time.
    PERFORM pg_advisory_xact_lock_shared(p_hi, p_lo);
    PERFORM 1 FROM {LEASES}
        WHERE thread_id = p_thread AND owner = p_owner AND fence = p_fence;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'graph_agents: this run no longer holds its thread (taken over)'
            USING ERRCODE = '{LEASE_LOST}';
    END IF;
    RETURN TRUE;
END $$;
"""

_ACQUIRE_SQL = f"""
WITH locked AS (SELECT pg_try_advisory_lock(%(key)s) AS ok),
drained AS (
    SELECT pg_advisory_xact_lock(%(hi)s, %(lo)s) FROM locked WHERE locked.ok
)
INSERT INTO {LEASES} (thread_id, owner, fence)
SELECT %(thread)s, %(owner)s, 1 FROM locked, drained WHERE locked.ok
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


def _halves(key: int) -> tuple[int, int]:
    """``key`` as the two signed 32-bit halves of the fence's (int, int) advisory lock, a
    key space apart from the thread lock's bigint one."""
    low = key & 0xFFFFFFFF
    return key >> 32, low - (1 << 32) if low >= 1 << 31 else low


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
        """The arguments of ``graph_agents_holds_lease`` for this lease."""
        return (self.thread_id, self.owner, self.fence, *_halves(self.key))


class LockLost(Exception):
    """Raised instead of a write when the run's lock connection ended and another run
    has taken the thread since (the library raises it as a `StoreError`)."""


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
                    await setup.execute(_LEASE_SQL, prepare=False)
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
        key = _lock_key(thread_id)
        owner = uuid.uuid4().hex
        hi, lo = _halves(key)
        params = {"key": key, "hi": hi, "lo": lo, "thread": thread_id, "owner": owner}
        row = await self._locking(_ACQUIRE_SQL, params)
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


@contextlib.contextmanager
def holding(lease: Lease | None) -> Any:
    """Make ``lease`` the current run's lease for the block (its tasks inherit it)."""
    token = _LEASE.set(lease)
    try:
        yield
    finally:
        _LEASE.reset(token)
