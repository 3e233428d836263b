"""Checkpointer factories: turn a state store definition into a LangGraph checkpointer.

`open_checkpointer` is the one place that knows how each store is opened and closed.
The async SQLite and Postgres savers bind to the event loop that opens them, so a network
opens one per running loop and closes it in ``aclose()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeAlias

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from ..exceptions import ConfigurationError
from ..state import InMemoryStateStore, PostgresStateStore, SqliteStateStore
from .locks import thread_lock

__all__ = ["StateStoreLike", "is_shareable_across_loops", "open_checkpointer", "thread_lock"]

StateStoreLike: TypeAlias = (
    InMemoryStateStore | SqliteStateStore | PostgresStateStore | BaseCheckpointSaver[str] | None
)


def is_shareable_across_loops(store: StateStoreLike) -> bool:
    """Whether one opened checkpointer may serve every event loop (only in-memory ones)."""
    return store is None or isinstance(store, InMemoryStateStore | BaseCheckpointSaver)


@contextlib.asynccontextmanager
async def open_checkpointer(store: StateStoreLike) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """Open the checkpointer for ``store``; close it on exit (a user's saver stays open).

    Raises:
        ConfigurationError: the store's extra is not installed, or ``store`` is not a store.
    """
    if store is None or isinstance(store, InMemoryStateStore):
        yield InMemorySaver()
    elif isinstance(store, BaseCheckpointSaver):
        yield store
    elif isinstance(store, SqliteStateStore):
        async with _open_sqlite(store) as saver:
            yield saver
    elif isinstance(store, PostgresStateStore):
        async with _open_postgres(store) as saver:
            yield saver
    else:
        raise ConfigurationError(
            f"state_store {store!r} is not a state store. Pass InMemoryStateStore(), "
            "SqliteStateStore(path), PostgresStateStore(dsn) or a LangGraph BaseCheckpointSaver."
        )


@contextlib.asynccontextmanager
async def _open_sqlite(store: SqliteStateStore) -> AsyncIterator[BaseCheckpointSaver[str]]:
    try:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    except ImportError as exc:
        raise ConfigurationError(
            "SqliteStateStore needs the 'sqlite' extra: pip install 'graph-agents[sqlite]'."
        ) from exc
    path = Path(store.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as conn:
        # WAL lets a second process read the thread while this one writes.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=10000")
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        yield saver


@contextlib.asynccontextmanager
async def _open_postgres(store: PostgresStateStore) -> AsyncIterator[BaseCheckpointSaver[str]]:
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
    except ImportError as exc:
        raise ConfigurationError(
            "PostgresStateStore needs the 'postgres' extra: pip install 'graph-agents[postgres]'."
        ) from exc
    pool = AsyncConnectionPool(
        store.dsn,
        min_size=1,
        max_size=store.pool_size,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": None, "row_factory": dict_row},
    )
    try:
        await pool.open(wait=True, timeout=10)
    except Exception as exc:
        await pool.close()
        raise ConfigurationError(
            f"Cannot connect to PostgreSQL at {_redact(store.dsn)!r}: {exc}. Check the DSN and "
            "that the server is running."
        ) from exc
    try:
        saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
        await saver.setup()
        yield saver
    finally:
        await pool.close()


def _redact(dsn: str) -> str:
    if "@" in dsn and "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else dsn
    return dsn
