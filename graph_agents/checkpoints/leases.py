"""PostgreSQL thread leases: the lock a run holds on its thread, and the fence its
writes check.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACQUIRE_SQL",
    "LEASES",
    "LEASE_LOST",
    "LEASE_SETUP_SQL",
    "RECOVER_SQL",
    "RELEASE_SQL",
    "Lease",
    "LockLost",
    "current_lease",
    "halves",
    "holding",
    "lock_key",
]

LEASES = "graph_agents_thread_leases"
LEASE_LOST = "GA001"
"""The SQLSTATE a fenced write fails with when another run took its thread over."""


LEASE_SETUP_SQL = f"""
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
    -- fence update (see ACQUIRE_SQL): held until this write commits. An advisory lock
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

ACQUIRE_SQL = f"""
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

RECOVER_SQL = f"""
WITH locked AS (SELECT pg_try_advisory_lock(%(key)s) AS ok)
SELECT locked.ok AS locked, pg_backend_pid() AS pid,
    (SELECT fence FROM {LEASES} WHERE thread_id = %(thread)s AND owner = %(owner)s) AS fence
FROM locked
"""

RELEASE_SQL = f"""
WITH cleared AS (
    UPDATE {LEASES} SET owner = NULL WHERE thread_id = %(thread)s AND owner = %(owner)s
)
SELECT pg_advisory_unlock(%(key)s) AS released
"""


def halves(key: int) -> tuple[int, int]:
    """``key`` as the two signed 32-bit halves of the fence's (int, int) advisory lock, a
    key space apart from the thread lock's bigint one."""
    low = key & 0xFFFFFFFF
    return key >> 32, low - (1 << 32) if low >= 1 << 31 else low


def lock_key(thread_id: str) -> int:
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
        return (self.thread_id, self.owner, self.fence, *halves(self.key))


class LockLost(Exception):
    """Raised instead of a write when the run's lock connection ended and another run
    has taken the thread since (the library raises it as a `StoreError`)."""


_LEASE: ContextVar[Lease | None] = ContextVar("graph_agents_lease", default=None)


def current_lease() -> Lease | None:
    """The lease of the run this task belongs to (``None`` outside a Postgres run)."""
    return _LEASE.get()


@contextlib.contextmanager
def holding(lease: Lease | None) -> Any:
    """Make ``lease`` the current run's lease for the block (its tasks inherit it)."""
    token = _LEASE.set(lease)
    try:
        yield
    finally:
        _LEASE.reset(token)
