"""Per-thread run locks, so two runs never interleave on one thread.

Within a process the network keeps a set of running threads. Across processes the lock
lives with the store: an advisory lock in PostgreSQL, a ``flock`` on a lock file beside
the SQLite database. In-memory stores are private to their process and need no more.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ..exceptions import ConcurrentRunError
from ..state import PostgresStateStore, SqliteStateStore

__all__ = ["thread_lock"]


@contextlib.asynccontextmanager
async def thread_lock(store: object, saver: Any, thread_id: str) -> AsyncIterator[None]:
    """Hold the cross-process lock of ``thread_id`` for the block.

    Raises:
        ConcurrentRunError: another process holds it.
    """
    if isinstance(store, SqliteStateStore):
        with _file_lock(Path(store.path), thread_id):
            yield
    elif isinstance(store, PostgresStateStore):
        async with _advisory_lock(saver.conn, thread_id):
            yield
    else:
        yield


def _busy(thread_id: str) -> ConcurrentRunError:
    return ConcurrentRunError(
        f"Thread {thread_id!r} already has a run in progress in another process. Wait for "
        "it to finish, or use another thread_id.",
        thread_id=thread_id,
    )


@contextlib.contextmanager
def _file_lock(database: Path, thread_id: str) -> Any:
    folder = database.with_name(database.name + ".locks")
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(thread_id.encode()).hexdigest()[:32]
    fd = os.open(folder / f"{digest}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(thread_id) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def _advisory_lock(pool: Any, thread_id: str) -> AsyncIterator[None]:
    # Session-level advisory locks belong to the connection, so one is held out of the
    # pool for the whole run and the lock is released on it.
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS locked", (thread_id,)
        )
        row = await cursor.fetchone()
        if not row or not row["locked"]:
            raise _busy(thread_id)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (thread_id,))
