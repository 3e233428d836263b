"""Lean checkpoints: DeltaChannel messages and state store each step's writes, not the
whole history, and still load exactly (state, history, forks) on every store, with or
without the in-process copy of a thread's latest values."""

from __future__ import annotations

import random
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.graph.message import _messages_delta_reducer

from graph_agents import Agent, SharedState, SqliteStateStore, create_network
from graph_agents.checkpoints.lean import LatestValues
from graph_agents.nodes.schema import SNAPSHOT_FREQUENCY, merge_shared
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


def test_the_state_reducer_is_batching_invariant() -> None:
    rng = random.Random(7)

    def op() -> tuple[str, str, float]:
        kind = rng.choice(["set", "append", "delete", "default"])
        # Appends go to a list key nothing sets, so every sequence is valid.
        return (kind, "log" if kind == "append" else rng.choice("abc"), rng.random())

    for _ in range(200):
        writes = [[op() for _ in range(rng.randint(0, 3))] for _ in range(rng.randint(1, 6))]
        cut = rng.randint(0, len(writes))
        start = {"a": 1, "log": [0.5]}
        assert merge_shared(merge_shared(start, writes[:cut]), writes[cut:]) == merge_shared(
            start, writes
        )


def test_the_messages_reducer_is_batching_invariant_and_replaces_by_id() -> None:
    rng = random.Random(3)
    for _ in range(100):
        writes = [
            [
                AIMessage(f"v{rng.random()}", id=f"m{rng.randint(0, 6)}")
                for _ in range(rng.randint(1, 3))
            ]
            for _ in range(rng.randint(1, 6))
        ]
        cut = rng.randint(0, len(writes))
        once = _messages_delta_reducer([], writes)
        twice = _messages_delta_reducer(_messages_delta_reducer([], writes[:cut]), writes[cut:])
        assert once == twice
        assert len({m.id for m in once}) == len(once)


def chatty(turns: int) -> tuple[Any, ScriptedModel]:
    """A network whose agent records each turn in state, then answers."""

    async def note(item: str, state: SharedState) -> str:
        """Note an item."""
        await state.append("notes", item)
        await state.set("last", item)
        return f"noted {item}"

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        last = messages[-1]
        if isinstance(last, HumanMessage):
            return ScriptedResponse(tool_calls=[ToolCall("note", {"item": str(last.content)})])
        return ScriptedResponse(text=f"answer to {messages[-3].content}")

    model = ScriptedModel(responder=respond)
    return Agent("Noter", tools=[note], model=model), model


def forget_latest(network: Any) -> None:
    runner = network._runner
    for opened in [runner._shared, *runner._per_loop.values()]:
        if opened is not None:
            opened.saver.latest = LatestValues()


def snapshot_of(state: Any) -> tuple[Any, ...]:
    return (
        state.checkpoint_id,
        [(m.type, m.id, m.content) for m in state.messages],
        state.state,
        state.next,
    )


async def test_state_history_and_forks_load_exactly_past_a_snapshot(state_store: object) -> None:
    thread = f"lean-{uuid.uuid4()}"
    turns = SNAPSHOT_FREQUENCY // 4 + 3  # four messages a turn: past the first snapshot
    agent, _ = chatty(turns)
    network = create_network(agents=[agent], state_store=state_store)  # type: ignore[arg-type]
    async with network:
        for turn in range(turns):
            result = await network.run(f"q{turn}", thread_id=thread)
        warm = await network.get_state(thread)
        warm_history = await network.get_state_history(thread)
        # Without the in-memory copy of the latest values, everything comes from the store.
        forget_latest(network)
        latest = await network.get_state(thread)
        history = await network.get_state_history(thread)
        middle = next(s for s in history if len(s.messages) == 2 * turns and not s.next)
        fork = await network.run("fork", thread_id=thread, checkpoint_id=middle.checkpoint_id)
    assert result.state == {"notes": [f"q{t}" for t in range(turns)], "last": f"q{turns - 1}"}
    assert len(result.messages) == 4 * turns
    assert warm is not None
    assert latest is not None
    assert snapshot_of(latest) == snapshot_of(warm)
    assert [snapshot_of(s) for s in history] == [snapshot_of(s) for s in warm_history]
    assert [len(s.messages) for s in history] == sorted(
        (len(s.messages) for s in history), reverse=True
    )
    assert [m.content for m in fork.messages[: 2 * turns]] == [
        m.content for m in result.messages[: 2 * turns]
    ]
    assert fork.state["notes"] == [f"q{t}" for t in range(turns // 2)] + ["fork"]


async def test_checkpoints_hold_each_steps_writes_not_the_history(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    agent, _ = chatty(20)
    async with create_network(agents=[agent], state_store=SqliteStateStore(path)) as network:
        for turn in range(20):
            await network.run(f"question number {turn} about moths", thread_id="t")
    with sqlite3.connect(path) as db:
        latest = db.execute(
            "SELECT checkpoint FROM checkpoints ORDER BY checkpoint_id DESC LIMIT 1"
        ).fetchone()[0]
        writes = db.execute("SELECT value FROM writes WHERE channel = 'messages'").fetchall()
    # The newest checkpoint holds this run's query and answer, no earlier turn.
    assert b"question number 19 about moths" in latest
    assert not any(f"question number {t} about".encode() in latest for t in range(19))
    # The text is in four messages of its turn (the question, the tool call's arguments,
    # the tool's result, the answer); each is stored once, as its step's write, and never
    # again in the checkpoints of the turns that follow.
    stored = sum(w[0].count(b"question number 7 about moths") for w in writes)
    assert stored == 4


@pytest.mark.parametrize("cold", [False, True], ids=["warm", "cold"])
async def test_a_continued_thread_sees_exactly_its_state(tmp_path: Path, cold: bool) -> None:
    path = tmp_path / "state.sqlite"
    agent, model = chatty(3)
    network = create_network(agents=[agent], state_store=SqliteStateStore(path))
    async with network:
        await network.run("first", thread_id="t")
        if cold:
            await network.aclose()
            agent, model = chatty(3)
            network = create_network(agents=[agent], state_store=SqliteStateStore(path))
        result = await network.run("second", thread_id="t")
    assert [m.content for m in model.calls[-1].messages if isinstance(m, HumanMessage)] == [
        "first",
        "second",
    ]
    assert result.state == {"notes": ["first", "second"], "last": "second"}


async def test_a_thread_moved_on_elsewhere_is_never_served_stale(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    here_agent, here_model = chatty(3)
    there_agent, _ = chatty(3)
    here = create_network(agents=[here_agent], state_store=SqliteStateStore(path))
    there = create_network(agents=[there_agent], state_store=SqliteStateStore(path))
    async with here, there:
        await here.run("one", thread_id="t")
        await there.run("two", thread_id="t")
        result = await here.run("three", thread_id="t")
    assert [m.content for m in here_model.calls[-1].messages if isinstance(m, HumanMessage)] == [
        "one",
        "two",
        "three",
    ]
    assert result.state["notes"] == ["one", "two", "three"]
