"""Store failures as library errors: driver exceptions never reach a caller raw.

`store_error` turns what psycopg, psycopg_pool, sqlite3 and aiosqlite raise into a
`StoreError` that names the store (a DSN without its password), the operation, whether
anything of the run was written, and whether retrying is safe; the driver's exception
is chained as its ``__cause__``.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..exceptions import StoreError

if TYPE_CHECKING:
    from .lean import WriteCount

__all__ = ["describe_store", "is_store_failure", "redact", "store_error", "translating"]


def redact(dsn: str) -> str:
    """``dsn`` without its password (URL or ``key=value`` form)."""
    if "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        if "@" in rest:
            credentials, host = rest.rsplit("@", 1)
            if ":" in credentials:
                return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
        return re.sub(r"(?i)(password=)[^&]*", r"\1***", dsn)
    return re.sub(r"(?i)(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn)


def describe_store(store: object) -> str:
    """How an error names ``store``: its kind and where it lives, never a password."""
    dsn = getattr(store, "dsn", None)
    if isinstance(dsn, str):
        return f"PostgresStateStore({redact(dsn)!r})"
    path = getattr(store, "path", None)
    if path is not None:
        return f"SqliteStateStore({str(path)!r})"
    return type(store).__name__


def is_store_failure(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a database driver (and should be a `StoreError`)."""
    from .leases import LockLost

    if isinstance(exc, sqlite3.Error | LockLost):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the postgres extra is optional
        return False
    return isinstance(exc, psycopg.Error)


def _lease_lost(exc: BaseException) -> bool:
    from .leases import LEASE_LOST, LockLost

    return isinstance(exc, LockLost) or getattr(exc, "sqlstate", None) == LEASE_LOST


def store_error(
    exc: BaseException,
    store: object,
    *,
    operation: str,
    thread_id: str | None = None,
    writes: int | None = None,
    idempotent: bool = False,
) -> StoreError:
    """A `StoreError` for the driver failure ``exc`` (the caller chains it).

    ``writes`` is how many checkpoint writes of the failed run committed (``None`` when
    no run was going on); ``idempotent``: the run has a ``run_id``, so repeating the call
    with it continues the run instead of starting it again.
    """
    where = describe_store(store)
    thread = f" on thread {thread_id!r}" if thread_id else ""
    detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    if _lease_lost(exc):
        retry_safe, advice = _advice(exc, writes, idempotent)
        return StoreError(
            f"The run{thread} lost its thread lock (its lock connection to {where} dropped, "
            "or another process took the thread over), so it stopped before writing "
            f"another checkpoint. {advice}",
            store=where,
            operation=operation,
            retry_safe=retry_safe,
            written=None if writes is None else writes > 0,
        )
    retry_safe, advice = _advice(exc, writes, idempotent)
    return StoreError(
        f"{where} failed to {operation}{thread} ({detail}). {advice}",
        store=where,
        operation=operation,
        retry_safe=retry_safe,
        written=None if writes is None else writes > 0,
    )


def _advice(exc: BaseException, writes: int | None, idempotent: bool) -> tuple[bool, str]:
    transient = _transient(exc)
    if writes is None:
        return transient, ("Retrying is safe." if transient else "Check the store before retrying.")
    if writes == 0:
        return True, "Nothing of this run was written, so running it again is safe."
    if idempotent:
        return True, (
            f"{writes} checkpoint write(s) of this run were stored; call run() again with the "
            "same run_id to continue it where it stopped."
        )
    return False, (
        f"{writes} checkpoint write(s) of this run were stored, so running it again would "
        "repeat its request; continue it with resume(thread_id) instead."
    )


def _transient(exc: Any) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(
        exc,
        psycopg.OperationalError
        | psycopg.errors.DeadlockDetected
        | psycopg.errors.SerializationFailure,
    )


@contextlib.contextmanager
def translating(
    store: object,
    operation: str,
    *,
    thread_id: str | None = None,
    count: WriteCount | None = None,
    idempotent: bool = False,
) -> Iterator[None]:
    """Raise the block's driver failures as `StoreError` (see `store_error`)."""
    try:
        yield
    except Exception as exc:
        if is_store_failure(exc):
            raise store_error(
                exc,
                store,
                operation=operation,
                thread_id=thread_id,
                writes=None if count is None else count.writes,
                idempotent=idempotent,
            ) from exc
        raise
