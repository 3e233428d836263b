"""LangGraph's checkpointer conformance suite, on the checkpointer each store opens:
strict deserialization always, encryption on and off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate

from graph_agents import InMemoryStateStore, PostgresStateStore, SqliteStateStore
from graph_agents.checkpoints import CheckpointPolicy, open_checkpointer

from .conftest import postgres_dsn


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_conformance(store_kind: str, encrypted: bool, tmp_path: Path) -> None:
    stores: dict[str, Any] = {
        "memory": lambda: InMemoryStateStore(),
        "sqlite": lambda: SqliteStateStore(tmp_path / f"conformance-{id(object())}.sqlite"),
        "postgres": lambda: PostgresStateStore(postgres_dsn()),
    }
    make_store = stores[store_kind]
    policy = CheckpointPolicy(encryption_key=bytes(range(32)) if encrypted else None)

    @checkpointer_test(name=f"graph_agents-{store_kind}-{encrypted}")
    async def factory() -> AsyncIterator[Any]:
        async with open_checkpointer(make_store(), policy) as saver:
            yield saver

    report = await validate(factory)
    failures = {
        name: result.failures
        for name, result in report.results.items()
        if result.detected and result.passed is not True
    }
    assert failures == {}
    assert report.passed_all_base()
    ran = {name: r.tests_passed for name, r in report.results.items() if r.detected}
    assert set(ran) >= {"put", "put_writes", "get_tuple", "list", "delete_thread"}
    assert all(count > 0 for count in ran.values()), ran
