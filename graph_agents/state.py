"""Shared state: what agents, tools, routers and conditions read and write during a run.

Three views of one dictionary:

- `SharedState` (async, read-write) is handed to tools that take a ``state`` parameter.
- `StateView` (sync, read-only) is handed to routers and workflow conditions.
- `NetworkState` (sync, read-write) is ``network.state``: its values seed every run.

Writes are not applied in place. A tool step records them as operations, and the step
returns the operations as part of its checkpointed update; the graph then folds them
into the state with `apply_state_ops`. That is why a crash after a step loses none of its
writes, and why parallel branches that ``append`` to one key lose nothing.

**Concurrent ``set`` rule.** When two parallel branches ``set`` the same key in one
superstep, their operations are applied in the graph's deterministic task order
(declaration order for workflow branches, tool-call order for delegations), and the last
applied value wins. ``append`` and ``update`` never conflict: every item and every key is kept.

State stores are LangGraph checkpointers. Pass `InMemoryStateStore`, `SqliteStateStore`,
`PostgresStateStore`, or any ``BaseCheckpointSaver``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ._secrets import conceal, is_secret, reveal_state
from .exceptions import ConfigurationError

__all__ = [
    "InMemoryStateStore",
    "NetworkState",
    "PostgresStateStore",
    "SharedState",
    "SqliteStateStore",
    "StateOp",
    "StateView",
    "apply_state_ops",
    "check_storable",
]

StateOp = tuple[Literal["set", "append", "delete", "default"], str, Any]
"""One recorded write: ``("set", key, value)``, ``("append", key, item)``,
``("delete", key, None)``, or ``("default", key, value)`` (set only when missing)."""


def check_storable(value: Any, where: str, *, nested: bool = False) -> None:
    """Refuse values that some state store cannot keep exactly, whatever the store.

    PostgreSQL cannot store a NUL character in text, and a lone surrogate is not valid
    Unicode (no store can encode it as UTF-8; the others would silently alter it). Such
    text is refused before anything is written, on every store alike, so a thread never
    depends on which store holds it. Strings nested in dicts, lists, tuples and sets
    (keys included) are checked too.

    A pydantic ``SecretStr``/``SecretBytes`` is kept out of checkpoints (see
    `graph_agents._secrets`) only as a top-level value; one nested in a container or a
    model is refused.

    Raises:
        ConfigurationError: ``value`` holds such text or a nested secret; the message
            names ``where``, the position and the fix.
    """
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem is not None:
            raise ConfigurationError(f"{where} {problem}")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, f"{where} (a key)", nested=True)
            check_storable(item, f"{where}[{key!r}]", nested=True)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            check_storable(item, f"{where}[{index}]", nested=True)
    elif is_secret(value):
        if nested:
            raise ConfigurationError(
                f"{where} is a {type(value).__name__} inside another value. Secrets are "
                "kept out of checkpoints only as top-level state values: store it under "
                "its own key, e.g. state.set('api_key', SecretStr(...))."
            )
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            check_storable(item, f"{where}.{name}", nested=True)


def _text_problem(text: str) -> str | None:
    position = text.find("\x00")
    if position >= 0:
        return (
            f"contains a NUL character (\\x00) at position {position}, which PostgreSQL "
            "cannot store, so no state store accepts it. Remove it, or encode binary data "
            "(e.g. base64) before passing it."
        )
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a lone surrogate {text[exc.start]!r} at position {exc.start}, which "
            "is not valid Unicode and cannot be stored. Decode the text with "
            "errors='replace' (or fix where it comes from) before passing it."
        )
    return None


def apply_state_ops(current: Mapping[str, Any] | None, ops: list[StateOp]) -> dict[str, Any]:
    """Return a new state dict: ``current`` with ``ops`` applied in order.

    ``current`` is never mutated, so checkpointed values stay as they were written.
    ``append`` to a missing key starts a list; ``append`` to a non-list value raises
    `TypeError` naming the key.
    """
    result = dict(current or {})
    for op, key, value in ops:
        if op == "set":
            result[key] = value
        elif op == "append":
            existing = result.get(key)
            if existing is None:
                result[key] = [value]
            elif isinstance(existing, list):
                result[key] = [*existing, value]
            else:
                raise TypeError(
                    f"Cannot append to state key {key!r}: it holds a "
                    f"{type(existing).__name__}, not a list. Use set() to replace it."
                )
        elif op == "delete":
            result.pop(key, None)
        elif op == "default":
            result.setdefault(key, value)
        else:
            raise ValueError(
                f"Unknown state operation {op!r}; expected set, append, delete or default."
            )
    return result


class StateView(Mapping[str, Any]):
    """A read-only, synchronous view of the shared state, for routers and conditions.

    ``view.get("review_score")`` returns ``None`` for a missing key, like a dict.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]):
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when it is missing.

        Typed ``Any`` like a JSON document's values, so conditions such as
        ``lambda state: state.get("review_score", 0) < 8`` check clean.
        """
        return self._data.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"StateView({dict(self._data)!r})"

    def to_dict(self) -> dict[str, Any]:
        """Return a deep copy of the state as a plain dict."""
        return copy.deepcopy(dict(self._data))


class SharedState:
    """The run's shared state, as tools see it: async, read-your-writes.

    Writes are recorded and applied to the graph state when the step that made them
    completes, as one checkpointed update. Reads see the state at the start of the step
    plus this step's own writes.
    """

    def __init__(self, initial: Mapping[str, Any] | None = None):
        self._current: dict[str, Any] = reveal_state(initial)
        self._ops: list[StateOp] = []

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value of ``key``, or ``default`` when it is missing."""
        return self._current.get(key, default)

    async def set(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value``."""
        self._record(("set", key, value))

    async def append(self, key: str, item: Any) -> None:
        """Append ``item`` to the list at ``key``, creating the list when missing.

        Appends from parallel branches are all kept.
        """
        self._record(("append", key, item))

    async def update(self, values: Mapping[str, Any]) -> None:
        """Set every key of ``values``."""
        for key, value in values.items():
            self._record(("set", key, value))

    async def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        self._record(("delete", key, None))

    async def to_dict(self) -> dict[str, Any]:
        """Return a copy of the state as this step currently sees it."""
        return copy.deepcopy(self._current)

    def view(self) -> StateView:
        """Return a synchronous read-only view of the current state."""
        return StateView(self._current)

    def _record(self, op: StateOp) -> None:
        if not isinstance(op[1], str):
            raise TypeError(f"State keys must be strings, got {op[1]!r}.")
        check_storable(op[1], "State key")
        check_storable(op[2], f"State value {op[1]!r}", nested=op[0] == "append")
        self._current = apply_state_ops(self._current, [op])
        self._ops.append((op[0], op[1], conceal(op[2])))

    def _take_ops(self) -> list[StateOp]:
        ops, self._ops = self._ops, []
        return ops


class NetworkState:
    """``network.state``: synchronous values that seed the shared state of every run.

    A seed fills its key at the start of a run when the thread does not hold the key
    yet; a value a run wrote on a continued thread is never overwritten by a seed.
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        """Return the seeded value of ``key``, or ``default``."""
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Seed ``key`` with ``value`` for every later run."""
        if not isinstance(key, str):
            raise TypeError(f"State keys must be strings, got {key!r}.")
        check_storable(key, "State key")
        check_storable(value, f"State value {key!r}")
        self._values[key] = value

    def delete(self, key: str) -> None:
        """Stop seeding ``key``."""
        self._values.pop(key, None)

    def to_dict(self) -> dict[str, Any]:
        """Return a deep copy of the seeded values."""
        return copy.deepcopy(self._values)

    def seed_ops(self) -> list[StateOp]:
        """The operations that seed a run: fill each key the thread does not hold.

        A secret is never checkpointed, so a thread cannot hold it from an earlier run in
        another process: secret seeds are set on every run.
        """
        return [
            ("set", key, conceal(value)) if is_secret(value) else ("default", key, value)
            for key, value in self.to_dict().items()
        ]


@dataclass(frozen=True)
class InMemoryStateStore:
    """Keep checkpoints in process memory: threads resume within this process only."""


@dataclass(frozen=True)
class SqliteStateStore:
    """Keep checkpoints in a SQLite file, shared by every process that opens it."""

    path: str | Path
    """The database file; created when missing."""

    def __post_init__(self) -> None:
        if not isinstance(self.path, str | os.PathLike) or not str(self.path).strip():
            raise ConfigurationError(
                f"SqliteStateStore(path={self.path!r}): pass the database file's path, e.g. "
                "SqliteStateStore('threads.sqlite')."
            )


@dataclass(frozen=True)
class PostgresStateStore:
    """Keep checkpoints in PostgreSQL, so many processes and hosts share threads."""

    dsn: str
    """A libpq connection string, e.g. ``postgresql://user@127.0.0.1:5432/db``."""
    pool_size: int = field(default=10)
    """The largest number of connections the store's pool opens."""
