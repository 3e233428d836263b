"""Safe checkpoints: strict deserialization, encryption at rest, secrets kept out."""

from __future__ import annotations

import base64
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import ormsgpack
import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel, SecretStr

from graph_agents import (
    Agent,
    ConfigurationError,
    Event,
    PostgresStateStore,
    SharedState,
    SqliteStateStore,
    StoreError,
    create_network,
)
from graph_agents._secrets import _VAULT, MissingSecret
from graph_agents.checkpoints.serde import CheckpointSerializer
from graph_agents.testing import ScriptedModel, ToolCall

from .conftest import postgres_dsn

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def forged(module: str, name: str, argument: str) -> ormsgpack.Ext:
    """What a blob looks like that makes LangGraph call ``module.name(argument)``."""
    return ormsgpack.Ext(0, ormsgpack.packb((module, name, argument)))


def tamper_latest_checkpoint(path: Path, channel: str, value: ormsgpack.Ext) -> None:
    """Rewrite the newest checkpoint row so that one channel holds ``value``."""
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT rowid, checkpoint FROM checkpoints ORDER BY checkpoint_id DESC LIMIT 1"
        ).fetchone()
        checkpoint = ormsgpack.unpackb(
            row[1], ext_hook=ormsgpack.Ext, option=ormsgpack.OPT_NON_STR_KEYS
        )
        checkpoint["channel_values"][channel] = value
        db.execute(
            "UPDATE checkpoints SET checkpoint = ? WHERE rowid = ?",
            (ormsgpack.packb(checkpoint, option=ormsgpack.OPT_NON_STR_KEYS), row[0]),
        )


def network_on(store: object, model: ScriptedModel | None = None, **options: Any) -> Any:
    agent = Agent("Echo", model=model or ScriptedModel(responder=lambda m: "ok"))
    return create_network(agents=[agent], state_store=store, **options)  # type: ignore[arg-type]


async def test_a_forged_blob_is_refused_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "state.sqlite"
    async with network_on(SqliteStateStore(path)) as network:
        await network.run("hello", thread_id="t")
    tamper_latest_checkpoint(path, "query", forged("os", "system", f"touch {marker}"))

    # The blob is a real exploit: LangGraph's permissive default runs the command.
    with sqlite3.connect(path) as db:
        blob = db.execute(
            "SELECT type, checkpoint FROM checkpoints ORDER BY checkpoint_id DESC LIMIT 1"
        ).fetchone()
    JsonPlusSerializer(allowed_msgpack_modules=True).loads_typed((blob[0], blob[1]))
    assert marker.exists()
    marker.unlink()

    async with network_on(SqliteStateStore(path)) as network:
        with pytest.raises(StoreError) as error:
            await network.get_state("t")
        with pytest.raises(StoreError):
            await network.run("again", thread_id="t")
    assert not marker.exists()
    assert str(error.value) == (
        "Refused to load a checkpoint blob: it names 'os.system', which checkpoints may not "
        "hold, and was not constructed. If the checkpoint store was not tampered with and "
        "this is a type your state holds, allow it: create_network(checkpoint_types=[...])."
    )
    assert error.value.operation == "load"


async def test_a_forged_print_call_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.sqlite"
    async with network_on(SqliteStateStore(path)) as network:
        await network.run("hello", thread_id="t")
    tamper_latest_checkpoint(path, "output", forged("builtins", "print", "PWNED"))
    async with network_on(SqliteStateStore(path)) as network:
        with pytest.raises(StoreError, match=r"'builtins\.print'"):
            await network.get_state("t")
    assert "PWNED" not in capsys.readouterr().out


def test_pickle_and_foreign_json_constructors_are_refused() -> None:
    serde = CheckpointSerializer()
    with pytest.raises(StoreError, match="Refused a pickled checkpoint blob"):
        serde.loads_typed(("pickle", b"cos\nsystem\n(S'true'\ntR."))
    payload = b'{"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {}}'
    with pytest.raises(StoreError, match=r"it constructs 'os\.system'"):
        serde.loads_typed(("json", payload))
    assert serde.loads_typed(serde.dumps_typed({"when": {1, 2}})) == {"when": {1, 2}}
    for raw in (b'{"lc": 1, "type": "constructor", "id": ["os", "system"]}', bytearray(b"\xff")):
        assert serde.loads_typed(serde.dumps_typed(raw)) == raw


class Order(BaseModel):
    sku: str
    quantity: int


async def remember_order(state: SharedState) -> str:
    """Remember an order."""
    await state.set("order", Order(sku="moth-1", quantity=2))
    return "ok"


async def test_user_types_load_only_when_declared(tmp_path: Path) -> None:
    def model() -> ScriptedModel:
        return ScriptedModel([ToolCall("remember_order", {}), "stored", "again"])

    path = tmp_path / "state.sqlite"
    agent = Agent("Clerk", tools=[remember_order], model=model())
    async with create_network(agents=[agent], state_store=SqliteStateStore(path)) as network:
        await network.run("order", thread_id="t")
    # Another process (a fresh network: nothing in memory) loads the thread from the store.
    agent = Agent("Clerk", tools=[remember_order], model=model())
    async with create_network(agents=[agent], state_store=SqliteStateStore(path)) as network:
        with pytest.raises(StoreError, match=r"'tests\.test_checkpoint_security\.Order'"):
            await network.run("again", thread_id="t")
    agent = Agent("Clerk", tools=[remember_order], model=model())
    allowed = create_network(
        agents=[agent], state_store=SqliteStateStore(path), checkpoint_types=[Order]
    )
    async with allowed:
        state = await allowed.get_state("t")
    assert state is not None
    assert state.state["order"] == Order(sku="moth-1", quantity=2)
    with pytest.raises(ConfigurationError, match="checkpoint_types holds 'Order'"):
        create_network(agents=[agent], checkpoint_types=["Order"])  # type: ignore[list-item]


def store_bytes(store: object) -> bytes:
    """Everything the store holds on disk (or in its tables) for these tests' threads."""
    if isinstance(store, SqliteStateStore):
        path = Path(store.path)
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    import psycopg

    assert isinstance(store, PostgresStateStore)
    with psycopg.connect(store.dsn) as conn:
        rows = []
        for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"):
            rows += conn.execute(f"SELECT t::text FROM {table} t").fetchall()
    return "\n".join(str(r[0]) for r in rows).encode()


@pytest.fixture(params=["sqlite", "postgres"])
def durable_store(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "sqlite":
        return SqliteStateStore(tmp_path / "state.sqlite")
    return PostgresStateStore(postgres_dsn())


async def test_encrypted_checkpoints_are_unreadable_without_the_key(durable_store: object) -> None:
    thread = f"enc-{os.urandom(4).hex()}"
    words = f"zebra-{os.urandom(4).hex()}"
    model = ScriptedModel(responder=lambda m: f"echo {words}")
    async with network_on(durable_store, model, encrypt_checkpoints=KEY) as network:
        result = await network.run(f"remember {words}", thread_id=thread)
        state = await network.get_state(thread)
    assert result.output == f"echo {words}"
    assert state is not None
    assert state.output == f"echo {words}"
    assert words.encode() not in store_bytes(durable_store)

    async with network_on(durable_store) as plain:
        with pytest.raises(StoreError, match=r"encrypted .* but no key is configured"):
            await plain.get_state(thread)
    other = base64.urlsafe_b64encode(bytes(32)).decode()
    async with network_on(durable_store, encrypt_checkpoints=other) as wrong:
        with pytest.raises(StoreError, match="does not decrypt with the configured key"):
            await wrong.get_state(thread)


async def test_encryption_refuses_a_plain_blob(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    async with network_on(SqliteStateStore(path)) as plain:
        await plain.run("hello", thread_id="t")
    async with network_on(SqliteStateStore(path), encrypt_checkpoints=KEY) as encrypted:
        with pytest.raises(StoreError, match=r"Refused a plain \('msgpack'\) checkpoint blob"):
            await encrypted.get_state("t")


def test_a_bad_key_is_refused_with_how_to_make_one() -> None:
    with pytest.raises(ConfigurationError) as error:
        network_on(None, encrypt_checkpoints=b"short")
    assert str(error.value) == (
        "encrypt_checkpoints must be an AES key of 16, 24 or 32 bytes, or that key as base64 "
        "text; got a bytes (5 bytes). Make one with "
        "base64.urlsafe_b64encode(os.urandom(32)).decode() and keep it secret."
    )
    with pytest.raises(ConfigurationError, match="durability='sometimes' is not one of"):
        network_on(None, durability="sometimes")


async def test_secrets_never_reach_checkpoints_events_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    async def call_api(state: SharedState) -> str:
        """Call the API with the configured key."""
        key = await state.get("api_key")
        assert isinstance(key, SecretStr)
        seen.append(key.get_secret_value())
        await state.set("session", SecretStr("session-token-9f8e7d"))
        return "called"

    path = tmp_path / "state.sqlite"
    model = ScriptedModel([ToolCall("call_api", {}), "done", "done again"])
    network = create_network(
        agents=[Agent("Caller", tools=[call_api], model=model)], state_store=SqliteStateStore(path)
    )
    network.state.set("api_key", SecretStr("hunter2-api-key"))
    events: list[Event] = []
    async with network:
        result = await network.run("call it", thread_id="t", stream_callback=events.append)
        await network.run("and again", thread_id="t")
        state = await network.get_state("t")
    assert seen == ["hunter2-api-key"]
    assert isinstance(result.state["session"], SecretStr)
    assert result.state["session"].get_secret_value() == "session-token-9f8e7d"
    assert state is not None
    assert state.state["api_key"].get_secret_value() == "hunter2-api-key"
    stored = store_bytes(SqliteStateStore(path))
    for secret in (b"hunter2-api-key", b"session-token-9f8e7d"):
        assert secret not in stored
        assert secret.decode() not in "".join(e.model_dump_json() for e in events)
        assert secret.decode() not in caplog.text

    # A process that never held the secret reads a placeholder that says what to do.
    _VAULT.clear()
    async with create_network(
        agents=[Agent("Caller")], state_store=SqliteStateStore(path)
    ) as other:
        elsewhere = await other.get_state("t")
    assert elsewhere is not None
    missing = elsewhere.state["session"]
    assert isinstance(missing, MissingSecret)
    with pytest.raises(ConfigurationError, match="'session' was set in another process"):
        missing.get_secret_value()


async def test_a_nested_secret_is_refused_where_it_is_written() -> None:
    async def nest(state: SharedState) -> str:
        """Nest a secret."""
        await state.set("config", {"key": SecretStr("x")})
        return "no"

    model = ScriptedModel([ToolCall("nest", {}), "ok"])
    result = await create_network(agents=[Agent("A", tools=[nest], model=model)]).run("go")
    assert result.tool_errors[0]["error"] == (
        "Error: tool 'nest' raised ConfigurationError: State value 'config'['key'] is a "
        "SecretStr inside another value. Secrets are kept out of checkpoints only as "
        "top-level state values: store it under its own key, e.g. state.set('api_key', "
        "SecretStr(...)). Fix the arguments or try another approach."
    )
