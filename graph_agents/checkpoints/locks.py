"""Per-thread run locks, so two runs never interleave on one thread.

Within a process the network keeps a set of running threads. Across processes the lock
lives with the store: in PostgreSQL an advisory lock on the process's lock connection
plus a fenced lease row (`graph_agents.checkpoints.postgres`), which pins no pooled
connection; beside a SQLite database a ``flock`` on a lock file, removed again when its
run ends. In-memory stores are private to their process and need no more.
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
from .leases import holding

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
        connections = saver.connections
        lease = await connections.acquire(thread_id)
        if lease is None:
            raise _busy(thread_id)
        try:
            with holding(lease):
                yield
        finally:
            await connections.release(lease)
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
    path = folder / f"{digest}.lock"
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _busy(thread_id) from None
        # The holder before us may have removed the file after we opened it: a lock on
        # a removed file excludes nobody, so take the one on the file as it is now.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            os.close(fd)
            continue
        if os.fstat(fd).st_ino == current.st_ino:
            break
        os.close(fd)
    try:
        yield
    finally:
        # Removed while still locked: whoever opens the path next makes a new file.
        with contextlib.suppress(OSError):
            os.unlink(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
