"""Checkpointer factories: turn a state store definition into a LangGraph checkpointer.

`open_checkpointer` is the one place that knows how each store is opened and closed, and
`CheckpointPolicy` says how it serializes (strict, optionally encrypted; see
`graph_agents.checkpoints.serde`) and how durably runs write to it. The async SQLite and
Postgres savers bind to the event loop that opens them, so a network opens one per
running loop and closes it in ``aclose()``.

**Durability**, per store unless ``create_network(durability=...)`` says otherwise:

=================  ==========  ==========================================================
store              durability  why
=================  ==========  ==========================================================
in memory          ``async``   nothing survives the process anyway; writes overlap steps
SQLite, Postgres   ``sync``    a step's checkpoint is written before the next step
                               starts, so a hard kill never loses a completed step
your own saver     ``sync``    assumed durable
=================  ==========  ==========================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from ..exceptions import ConfigurationError
from ..state import InMemoryStateStore, PostgresStateStore, SqliteStateStore
from .errors import is_store_failure, store_error
from .journal import MemoryJournal, PostgresJournal, SqliteJournal, ToolJournal
from .lean import LatestValues, lean_saver
from .locks import thread_lock
from .postgres import shared_connections
from .saver import fenced_saver_class
from .serde import encryption_key, make_serializer

__all__ = [
    "CheckpointPolicy",
    "Durability",
    "StateStoreLike",
    "ToolJournal",
    "is_shareable_across_loops",
    "make_policy",
    "open_checkpointer",
    "open_journal",
    "thread_lock",
]

Durability: TypeAlias = Literal["sync", "async", "exit"]
"""When LangGraph writes checkpoints: before the next step (``sync``), while it runs
(``async``), or once when the run ends (``exit``)."""

DURABILITIES: tuple[Durability, ...] = ("sync", "async", "exit")

StateStoreLike: TypeAlias = (
    InMemoryStateStore | SqliteStateStore | PostgresStateStore | BaseCheckpointSaver[str] | None
)


@dataclass(frozen=True, kw_only=True)
class CheckpointPolicy:
    """How a network's or workflow's checkpoints are written and read."""

    durability: Durability | None = None
    """``None``: chosen per store (see the module docstring)."""
    encryption_key: bytes | None = None
    """AES key: every blob is encrypted, and plain blobs are refused."""
    types: tuple[type, ...] = ()
    """Classes of the user's state values that checkpoints may construct on load."""

    def durability_for(self, store: StateStoreLike) -> Durability:
        """The durability runs on ``store`` use."""
        if self.durability is not None:
            return self.durability
        if store is None or isinstance(store, InMemoryStateStore):
            return "async"
        return "sync"


def make_policy(
    *,
    durability: Durability | None,
    encrypt_checkpoints: bytes | str | None,
    checkpoint_types: Any,
    owner: str,
) -> CheckpointPolicy:
    """Check the checkpoint arguments of ``create_network``/``create_workflow``.

    Raises:
        ConfigurationError: an unknown durability, a key that is not an AES key, or
            checkpoint types that are not classes.
    """
    if durability is not None and durability not in DURABILITIES:
        raise ConfigurationError(
            f"{owner}: durability={durability!r} is not one of {list(DURABILITIES)!r} (or None "
            "for the store's default: 'sync' for SQLite and Postgres, 'async' in memory)."
        )
    types = tuple(checkpoint_types or ())
    for item in types:
        if not isinstance(item, type):
            raise ConfigurationError(
                f"{owner}: checkpoint_types holds {item!r}, which is not a class; pass the "
                "classes your state values are (pydantic models, dataclasses, ...)."
            )
    key = encryption_key(encrypt_checkpoints) if encrypt_checkpoints is not None else None
    return CheckpointPolicy(durability=durability, encryption_key=key, types=types)


def is_shareable_across_loops(store: StateStoreLike) -> bool:
    """Whether one opened checkpointer may serve every event loop (only in-memory ones)."""
    return store is None or isinstance(store, InMemoryStateStore | BaseCheckpointSaver)


@contextlib.asynccontextmanager
async def open_checkpointer(
    store: StateStoreLike, policy: CheckpointPolicy | None = None
) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """Open the checkpointer for ``store``; close it on exit (a user's saver stays open).

    The stores graph_agents opens serialize by ``policy`` (strict, optionally
    encrypted); a ``BaseCheckpointSaver`` of the user's keeps its own serializer.

    Raises:
        ConfigurationError: the store's extra is not installed, or ``store`` is not a store.
    """
    policy = policy or CheckpointPolicy()
    serde = make_serializer(policy.types, policy.encryption_key)
    if store is None or isinstance(store, InMemoryStateStore):
        yield _lean(lean_saver(InMemorySaver)(serde=serde))
    elif isinstance(store, BaseCheckpointSaver):
        yield store
    elif isinstance(store, SqliteStateStore):
        async with _open_sqlite(store, serde) as saver:
            yield saver
    elif isinstance(store, PostgresStateStore):
        async with _open_postgres(store, serde, encrypted=policy.encryption_key is not None) as (
            saver
        ):
            yield saver
    else:
        raise ConfigurationError(
            f"state_store {store!r} is not a state store. Pass InMemoryStateStore(), "
            "SqliteStateStore(path), PostgresStateStore(dsn) or a LangGraph BaseCheckpointSaver."
        )


async def open_journal(store: StateStoreLike, saver: BaseCheckpointSaver[str]) -> ToolJournal:
    """The tool-call journal beside ``store``'s checkpoints (see `.journal`)."""
    if isinstance(store, SqliteStateStore):
        return SqliteJournal(saver)
    if isinstance(store, PostgresStateStore):
        return PostgresJournal(saver)  # its table is set up with the checkpoints
    return MemoryJournal()


@contextlib.asynccontextmanager
async def _open_sqlite(
    store: SqliteStateStore, serde: Any
) -> AsyncIterator[BaseCheckpointSaver[str]]:
    try:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    except ImportError as exc:
        raise ConfigurationError(
            "SqliteStateStore needs the 'sqlite' extra: pip install 'graph-agents[sqlite]'."
        ) from exc
    path = Path(store.path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"SqliteStateStore({str(store.path)!r}): cannot create the folder "
            f"{str(path.parent)!r} ({exc.strerror or exc}); pass a path in a folder this "
            "process can write."
        ) from exc
    async with aiosqlite.connect(str(path)) as conn:
        # WAL lets a second process read the thread while this one writes.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=10000")
        saver = _lean(lean_saver(AsyncSqliteSaver)(conn, serde=serde))
        await saver.setup()
        yield saver


@contextlib.asynccontextmanager
async def _open_postgres(
    store: PostgresStateStore, serde: Any, *, encrypted: bool
) -> AsyncIterator[BaseCheckpointSaver[str]]:
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "PostgresStateStore needs the 'postgres' extra: pip install 'graph-agents[postgres]'."
        ) from exc
    opened = False
    try:
        async with shared_connections(store.dsn, store.pool_size) as connections:
            saver_class = lean_saver(fenced_saver_class(encrypted=encrypted))
            saver = _lean(saver_class(connections.pool, serde=serde))
            saver.connections = connections
            await connections.ensure_setup(saver.setup, PostgresJournal(saver).setup)
            opened = True
            yield saver
    except Exception as exc:
        if not opened and (is_store_failure(exc) or isinstance(exc, OSError)):
            raise store_error(exc, store, operation="connect") from exc
        raise


def _lean(saver: Any) -> Any:
    saver.latest = LatestValues()
    return saver
