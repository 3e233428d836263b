"""The tool-call journal: durable per-call records inside a tool step.

LangGraph checkpoints a step when it ends, so a run that dies inside a tool step runs
the whole step again when it is resumed. Two things need a record finer than a step:

- **attempts**: a tool that takes a `ToolContext` learns how many times its body has
  started; the count is written (and committed) before the body runs;
- **finished calls**: when a model message calls several tools, each call's result is
  written as soon as it finishes, so a resumed step runs only the calls that had not.

Records live beside the checkpoints: a table in the SQLite file or the PostgreSQL
database, a dict for in-memory stores and for a user's own saver (so those keep
attempts and results only within one process). Results are serialized with the store's
serializer, so they are strict and encrypted like checkpoints. A thread's records are
deleted when one of its runs finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["MemoryJournal", "PostgresJournal", "SqliteJournal", "ToolJournal"]

_TABLE = "graph_agents_tool_calls"


class ToolJournal(Protocol):
    """Per-call records of tool steps, by thread and call key."""

    async def begin(self, thread_id: str, key: str) -> int:
        """Count one more start of the call's body; return the count (1 the first time)."""
        ...

    async def finished(self, thread_id: str, keys: Sequence[str]) -> dict[str, Any]:
        """The recorded results among ``keys``."""
        ...

    async def record(self, thread_id: str, key: str, outcome: Any) -> None:
        """Record that the call finished, with its result."""
        ...

    async def clear(self, thread_id: str) -> None:
        """Forget the thread's records (its run finished)."""
        ...


class MemoryJournal:
    """Records in process memory."""

    def __init__(self) -> None:
        self._attempts: dict[tuple[str, str], int] = {}
        self._outcomes: dict[tuple[str, str], Any] = {}

    async def begin(self, thread_id: str, key: str) -> int:
        """See `ToolJournal.begin`."""
        count = self._attempts.get((thread_id, key), 0) + 1
        self._attempts[(thread_id, key)] = count
        return count

    async def finished(self, thread_id: str, keys: Sequence[str]) -> dict[str, Any]:
        """See `ToolJournal.finished`."""
        return {k: self._outcomes[(thread_id, k)] for k in keys if (thread_id, k) in self._outcomes}

    async def record(self, thread_id: str, key: str, outcome: Any) -> None:
        """See `ToolJournal.record`."""
        self._outcomes[(thread_id, key)] = outcome

    async def clear(self, thread_id: str) -> None:
        """See `ToolJournal.clear`."""
        for table in (self._attempts, self._outcomes):
            for entry in [k for k in table if k[0] == thread_id]:
                del table[entry]


class SqliteJournal:
    """Records in the SQLite file of the checkpoints, on the saver's connection."""

    def __init__(self, saver: Any):
        self._conn = saver.conn
        self._lock: asyncio.Lock = saver.lock
        self._serde = saver.serde
        self._ready = False

    async def _setup(self) -> None:
        if not self._ready:
            await self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} (thread_id TEXT NOT NULL, "
                "call_key TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                "outcome_type TEXT, outcome BLOB, PRIMARY KEY (thread_id, call_key))"
            )
            self._ready = True

    async def begin(self, thread_id: str, key: str) -> int:
        """See `ToolJournal.begin`."""
        async with self._lock:
            await self._setup()
            cursor = await self._conn.execute(
                f"INSERT INTO {_TABLE} (thread_id, call_key, attempts) VALUES (?, ?, 1) "
                "ON CONFLICT (thread_id, call_key) DO UPDATE SET attempts = attempts + 1 "
                "RETURNING attempts",
                (thread_id, key),
            )
            row = await cursor.fetchone()
            await self._conn.commit()
        assert row is not None
        return int(row[0])

    async def finished(self, thread_id: str, keys: Sequence[str]) -> dict[str, Any]:
        """See `ToolJournal.finished`."""
        if not keys:
            return {}
        marks = ", ".join("?" for _ in keys)
        async with self._lock:
            await self._setup()
            cursor = await self._conn.execute(
                f"SELECT call_key, outcome_type, outcome FROM {_TABLE} WHERE thread_id = ? "
                f"AND outcome_type IS NOT NULL AND call_key IN ({marks})",
                (thread_id, *keys),
            )
            rows = await cursor.fetchall()
        return {key: self._serde.loads_typed((kind, blob)) for key, kind, blob in rows}

    async def record(self, thread_id: str, key: str, outcome: Any) -> None:
        """See `ToolJournal.record`."""
        kind, blob = self._serde.dumps_typed(outcome)
        async with self._lock:
            await self._setup()
            await self._conn.execute(
                f"INSERT INTO {_TABLE} (thread_id, call_key, outcome_type, outcome) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (thread_id, call_key) DO UPDATE SET "
                "outcome_type = excluded.outcome_type, outcome = excluded.outcome",
                (thread_id, key, kind, blob),
            )
            await self._conn.commit()

    async def clear(self, thread_id: str) -> None:
        """See `ToolJournal.clear`."""
        async with self._lock:
            await self._setup()
            await self._conn.execute(f"DELETE FROM {_TABLE} WHERE thread_id = ?", (thread_id,))
            await self._conn.commit()


class PostgresJournal:
    """Records in the PostgreSQL database of the checkpoints, through the saver's pool."""

    def __init__(self, saver: Any):
        self._pool = saver.conn
        self._serde = saver.serde

    async def setup(self) -> None:
        """Create the table (once per database; safe to repeat)."""
        async with self._pool.connection() as conn, conn.transaction():
            # Processes starting together would race on the catalog otherwise.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_TABLE,))
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} (thread_id TEXT NOT NULL, "
                "call_key TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                "outcome_type TEXT, outcome BYTEA, PRIMARY KEY (thread_id, call_key))"
            )

    async def begin(self, thread_id: str, key: str) -> int:
        """See `ToolJournal.begin`."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"INSERT INTO {_TABLE} (thread_id, call_key, attempts) VALUES (%s, %s, 1) "
                "ON CONFLICT (thread_id, call_key) DO UPDATE SET "
                f"attempts = {_TABLE}.attempts + 1 RETURNING attempts",
                (thread_id, key),
            )
            row = await cursor.fetchone()
        assert row is not None
        return int(row["attempts"])

    async def finished(self, thread_id: str, keys: Sequence[str]) -> dict[str, Any]:
        """See `ToolJournal.finished`."""
        if not keys:
            return {}
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT call_key, outcome_type, outcome FROM {_TABLE} WHERE thread_id = %s "
                "AND outcome_type IS NOT NULL AND call_key = ANY(%s)",
                (thread_id, list(keys)),
            )
            rows = await cursor.fetchall()
        return {
            row["call_key"]: self._serde.loads_typed((row["outcome_type"], bytes(row["outcome"])))
            for row in rows
        }

    async def record(self, thread_id: str, key: str, outcome: Any) -> None:
        """See `ToolJournal.record`."""
        kind, blob = self._serde.dumps_typed(outcome)
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO {_TABLE} (thread_id, call_key, outcome_type, outcome) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (thread_id, call_key) DO UPDATE SET "
                "outcome_type = excluded.outcome_type, outcome = excluded.outcome",
                (thread_id, key, kind, blob),
            )

    async def clear(self, thread_id: str) -> None:
        """See `ToolJournal.clear`."""
        async with self._pool.connection() as conn:
            await conn.execute(f"DELETE FROM {_TABLE} WHERE thread_id = %s", (thread_id,))
