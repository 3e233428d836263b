from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.conftest import postgres_dsn


def _admin(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True)


def database_dsn(base: str, name: str) -> str:
    """``base`` pointing at database ``name`` instead."""
    info = psycopg.conninfo.conninfo_to_dict(base)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


@pytest.fixture
def fresh_dsn() -> Iterator[str]:
    """A DSN of a new, empty database, dropped afterwards (faults stay inside it)."""
    base = postgres_dsn()
    name = f"ga_faults_{uuid.uuid4().hex[:12]}"
    with _admin(base) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_dsn(base, name)
    finally:
        with _admin(base) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def terminate_backends(dsn: str, *, application: str | None = None, pid: int | None = None) -> int:
    """Terminate the sessions on ``dsn``'s database (of one application or pid);
    return how many were terminated."""
    database = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    query = (
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()"
    )
    params: list[object] = [database]
    if application is not None:
        query += " AND application_name = %s"
        params.append(application)
    if pid is not None:
        query += " AND pid = %s"
        params.append(pid)
    with _admin(dsn) as conn:
        row = conn.execute(query, params).fetchone()
    return int(row[0]) if row else 0


def backends(dsn: str) -> dict[str, int]:
    """The sessions on ``dsn``'s database, counted by application name."""
    database = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with _admin(dsn) as conn:
        rows = conn.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid() GROUP BY application_name",
            (database,),
        ).fetchall()
    return {str(name): int(count) for name, count in rows}
