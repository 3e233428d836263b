"""ToolContext injection and the tool-call journal: attempts, stable keys, and a step
that dies midway re-running only the calls that had not finished."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest

from graph_agents import (
    Agent,
    PostgresStateStore,
    SharedState,
    SqliteStateStore,
    create_network,
    tool_from,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall
from graph_agents.tools import ToolContext


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


def test_tool_context_is_hidden_from_the_model() -> None:
    async def charge(amount: int, context: ToolContext, state: SharedState) -> str:
        """Charge."""
        return context.idempotency_key

    assert list(tool_from(charge).parameters["properties"]) == ["amount"]
    assert tool_from(charge).takes_context


async def test_a_step_that_dies_reruns_only_unfinished_calls(state_store: object) -> None:
    seen: list[tuple[str, int, str]] = []
    crash = {"armed": True}

    async def fast(item: str, context: ToolContext, state: SharedState) -> str:
        """Fast."""
        seen.append((item, context.attempt, context.idempotency_key))
        await state.append("done", item)
        return f"fast {item}"

    async def fragile(item: str, context: ToolContext) -> str:
        """Fragile."""
        seen.append((item, context.attempt, context.idempotency_key))
        if crash["armed"]:
            crash["armed"] = False
            raise Crash()
        return f"fragile {item}"

    model = ScriptedModel(
        [
            ScriptedResponse(
                tool_calls=[
                    ToolCall("fast", {"item": "x"}, id="1"),
                    ToolCall("fragile", {"item": "y"}, id="2"),
                ]
            ),
            "Both ran.",
        ]
    )
    network = create_network(
        agents=[Agent("Worker", tools=[fast, fragile], model=model)],
        state_store=state_store,  # type: ignore[arg-type]
    )
    thread = f"t-{uuid.uuid4()}"
    async with network:
        with pytest.raises(Crash):
            await network.run("go", thread_id=thread)
        result = await network.resume(thread)
    assert result.output == "Both ran."
    assert result.state == {"done": ["x"]}
    # The two calls of the step run concurrently, in either order; then only y again.
    calls = [(item, attempt) for item, attempt, _ in seen]
    assert sorted(calls[:2]) == [("x", 1), ("y", 1)]
    assert calls[2:] == [("y", 2)]
    keys = {(item, attempt): key for item, attempt, key in seen}
    assert keys[("y", 1)] == keys[("y", 2)] != keys[("x", 1)]
    assert len(model.calls) == 2
    assert [m.content for m in model.calls[1].messages[-2:]] == ["fast x", "fragile y"]
    assert journal_rows(state_store, thread) == 0


def journal_rows(store: object, thread: str) -> int:
    """The tool-call journal rows a finished thread left behind (none, once it ends)."""
    query = "SELECT COUNT(*) FROM graph_agents_tool_calls WHERE thread_id = "
    if isinstance(store, SqliteStateStore):
        with sqlite3.connect(store.path) as db:
            return int(db.execute(query + "?", (thread,)).fetchone()[0])
    if isinstance(store, PostgresStateStore):
        import psycopg

        with psycopg.connect(store.dsn) as conn:
            row = conn.execute(query + "%s", (thread,)).fetchone()
            return int(row[0]) if row else 0
    return 0


async def test_keys_differ_per_call_and_thread() -> None:
    keys: list[str] = []

    async def note(item: str, context: ToolContext) -> str:
        """Note."""
        keys.append(context.idempotency_key)
        assert (context.tool, context.agent, context.attempt) == ("note", "Noter", 1)
        return "ok"

    def model() -> ScriptedModel:
        return ScriptedModel(
            [
                ToolCall("note", {"item": "a"}, id="same"),
                ToolCall("note", {"item": "a"}, id="same"),
                "done",
            ]
        )

    for thread in ("one", "two"):
        network = create_network(agents=[Agent("Noter", tools=[note], model=model())])
        await network.run("go", thread_id=thread)
    assert len(keys) == 4
    assert len(set(keys)) == 4


async def test_invoke_outside_a_run_needs_a_context() -> None:
    async def note(item: str, context: ToolContext) -> Any:
        """Note."""
        return context.attempt

    tool = tool_from(note)
    context = ToolContext(
        thread_id="t", agent="a", tool="note", tool_call_id="c", attempt=3, idempotency_key="k"
    )
    assert await tool.invoke({"item": "x"}, SharedState(), context) == 3
    from graph_agents.tools import ToolCallError

    with pytest.raises(ToolCallError, match="takes a ToolContext, which only a network"):
        await tool.invoke({"item": "x"}, SharedState())


async def test_the_journal_clears_only_the_finished_thread(state_store: object) -> None:
    from graph_agents.checkpoints import open_checkpointer, open_journal

    a, b, c = (f"{name}-{uuid.uuid4()}" for name in "abc")
    async with open_checkpointer(state_store) as saver:  # type: ignore[arg-type]
        journal = await open_journal(state_store, saver)  # type: ignore[arg-type]
        for thread in (a, b, c):
            assert await journal.begin(thread, "k1") == 1
            await journal.record(thread, "k1", f"done in {thread}")
        assert await journal.begin(b, "k1") == 2
        await journal.clear(b)
        assert await journal.finished(a, ["k1", "k2"]) == {"k1": f"done in {a}"}
        assert await journal.finished(b, ["k1"]) == {}
        assert await journal.finished(c, ["k1"]) == {"k1": f"done in {c}"}
        assert await journal.begin(b, "k1") == 1
        assert await journal.begin(a, "k1") == 2
        for thread in (a, b, c):
            await journal.clear(thread)
