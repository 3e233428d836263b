from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_agents import InMemoryStateStore, PostgresStateStore, SqliteStateStore
from graph_agents.testing import OpenAIStubServer

POSTGRES_ENV = "GRAPH_AGENTS_TEST_POSTGRES_DSN"


@pytest.fixture
def stub() -> Iterator[OpenAIStubServer]:
    with OpenAIStubServer() as server:
        yield server


def postgres_dsn() -> str:
    dsn = os.environ.get(POSTGRES_ENV)
    if not dsn:
        pytest.skip(f"{POSTGRES_ENV} is not set; export it to run the PostgreSQL tests")
    return dsn


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def state_store(store_kind: str, tmp_path: Path) -> object:
    if store_kind == "memory":
        return InMemoryStateStore()
    if store_kind == "sqlite":
        return SqliteStateStore(tmp_path / "state.sqlite")
    return PostgresStateStore(postgres_dsn())


@pytest.fixture(params=["sqlite", "postgres"])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """A durable store another process can open: ``(kind, path or DSN)``."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "threads.sqlite")
    return "postgres", postgres_dsn()
