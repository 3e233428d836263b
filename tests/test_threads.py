"""Durable threads: state, history, a second process, and runs that would interleave."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage

from graph_agents import (
    Agent,
    ConcurrentRunError,
    ModelProviderError,
    SharedState,
    SqliteStateStore,
    create_network,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall

from .thread_worker import build

WORKER = str(Path(__file__).with_name("thread_worker.py"))


def worker(
    kind: str, where: str, thread: str, query: str, delay: float = 0.0
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, kind, where, thread, query, str(delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_a_second_process_continues_the_thread(durable: tuple[str, str]) -> None:
    kind, where = durable
    thread = f"t-{uuid.uuid4()}"
    async with build(kind, where) as network:
        first = await network.run("hello", thread_id=thread)
    assert first.output == "answer 1: heard hello"

    process = worker(kind, where, thread, "again")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    second = json.loads(out.strip().splitlines()[-1])
    assert second == {
        "output": "answer 2: heard hello | again",
        "agent_path": ["Memo"],
        "messages": ["human", "ai", "human", "ai"],
    }

    async with build(kind, where) as network:
        third = await network.run("third", thread_id=thread)
        history = await network.get_state_history(thread)
    assert third.output == "answer 3: heard hello | again | third"
    assert [h.output for h in history if not h.next][:3] == [
        "answer 3: heard hello | again | third",
        "answer 2: heard hello | again",
        "answer 1: heard hello",
    ]


async def test_a_run_in_another_process_blocks_the_thread(durable: tuple[str, str]) -> None:
    kind, where = durable
    thread = f"t-{uuid.uuid4()}"
    process = worker(kind, where, thread, "slow one", delay=1.5)
    assert process.stdout is not None
    line = await asyncio.to_thread(process.stdout.readline)
    assert line.strip() == "STARTED"
    async with build(kind, where) as network:
        with pytest.raises(
            ConcurrentRunError,
            match=rf"Thread '{thread}' already has a run in "
            "progress in another process",
        ):
            await network.run("intruder", thread_id=thread)
        _out, err = await asyncio.to_thread(process.communicate, timeout=120)
        assert process.returncode == 0, err
        after = await network.run("after", thread_id=thread)
    assert after.output == "answer 2: heard slow one | after"


async def test_concurrent_runs_in_one_process_never_interleave(state_store: object) -> None:
    model = ScriptedModel(
        responder=lambda m: ScriptedResponse(text=f"reply to {m[-1].content}", delay=0.2)
    )
    network = create_network(agents=[Agent("A", model=model)], state_store=state_store)  # type: ignore[arg-type]
    thread = f"t-{uuid.uuid4()}"
    async with network:
        first = asyncio.create_task(network.run("one", thread_id=thread))
        await asyncio.sleep(0.05)
        with pytest.raises(ConcurrentRunError):
            await network.run("two", thread_id=thread)
        assert (await first).output == "reply to one"
        state = await network.get_state(thread)
    assert state is not None
    assert [m.content for m in state.messages] == ["one", "reply to one"]


async def test_get_state_and_history(state_store: object) -> None:
    model = ScriptedModel([ToolCall("note", {"text": "x"}), "noted"])

    async def note(text: str, state: SharedState) -> str:
        """Note."""
        await state.set("note", text)
        return "ok"

    network = create_network(
        agents=[Agent("A", tools=[note], model=model)], state_store=state_store
    )  # type: ignore[arg-type]
    thread = f"t-{uuid.uuid4()}"
    async with network:
        assert await network.get_state(thread) is None
        await network.run("Note x", thread_id=thread)
        latest = await network.get_state(thread)
        history = await network.get_state_history(thread)
    assert latest is not None
    assert latest.state == {"note": "x"}
    assert latest.output == "noted"
    assert latest.next == []
    assert latest.agent_path == ["A"]
    assert [h.next for h in history] == [[], ["A"], ["A tools"], ["A"], ["__start__"]]
    assert history[0].checkpoint_id == latest.checkpoint_id
    assert history[2].state == {}


async def test_resume_after_a_model_failure_repeats_no_completed_tool(state_store: object) -> None:
    tool_runs: list[str] = []

    async def charge(amount: int) -> str:
        """Charge a card."""
        tool_runs.append(f"charged {amount}")
        return "ok"

    outage = {"on": True}

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        if not any(m.type == "tool" for m in messages):
            return ScriptedResponse(tool_calls=[ToolCall("charge", {"amount": 5})])
        if outage["on"]:
            return ScriptedResponse(error=ModelProviderError("Model 'm' is unreachable."))
        return ScriptedResponse(text="Charged 5.")

    model = ScriptedModel(responder=respond)
    network = create_network(
        agents=[Agent("Till", tools=[charge], model=model)], state_store=state_store
    )  # type: ignore[arg-type]
    thread = f"t-{uuid.uuid4()}"
    async with network:
        with pytest.raises(ModelProviderError):
            await network.run("Charge 5", thread_id=thread)
        outage["on"] = False
        result = await network.resume(thread)
    assert tool_runs == ["charged 5"]
    assert result.output == "Charged 5."
    assert [m.type for m in result.messages] == ["human", "ai", "tool", "ai"]
    assert len(model.calls) == 3


async def test_sqlite_lock_files_go_when_their_run_ends(tmp_path: Path) -> None:
    from graph_agents.checkpoints.locks import _file_lock

    database = tmp_path / "threads.sqlite"
    network = create_network(
        agents=[Agent("A", model=ScriptedModel(responder=lambda m: "ok"))],
        state_store=SqliteStateStore(database),
    )
    async with network:
        for thread in ("one", "two", "three"):
            await network.run("hi", thread_id=thread)
    assert list((tmp_path / "threads.sqlite.locks").iterdir()) == []
    # Removing the file on release keeps the lock: while it is held, it excludes.
    with _file_lock(database, "t"), pytest.raises(ConcurrentRunError), _file_lock(database, "t"):
        pass
    assert list((tmp_path / "threads.sqlite.locks").iterdir()) == []


async def test_list_threads_newest_first_and_with_state_store(
    state_store: object, tmp_path: Path
) -> None:
    import uuid

    from graph_agents import SqliteStateStore

    tag = uuid.uuid4().hex[:8]
    model = ScriptedModel(responder=lambda messages: "ok")
    network = create_network([Agent("A", "a", model=model)], state_store=state_store)
    async with network:
        for name in ("one", "two", "three"):
            await network.run(f"run {name}", thread_id=f"{tag}-{name}")
        await network.run("again", thread_id=f"{tag}-one")
        listed = [s.thread_id for s in await network.list_threads(limit=1000)]
        ours = [t for t in listed if t.startswith(tag)]
        assert ours == [f"{tag}-one", f"{tag}-three", f"{tag}-two"]
        assert len(await network.list_threads(limit=2)) == 2
        elsewhere = network.with_state_store(SqliteStateStore(tmp_path / "other.sqlite"))
        async with elsewhere:
            assert await elsewhere.list_threads() == []
            await elsewhere.run("hello", thread_id="t-other")
            assert [s.thread_id for s in await elsewhere.list_threads()] == ["t-other"]
        assert "t-other" not in [s.thread_id for s in await network.list_threads(limit=1000)]


async def test_list_threads_leaves_out_threads_it_cannot_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from graph_agents import SqliteStateStore

    path = tmp_path / "mixed.sqlite"
    model = ScriptedModel(responder=lambda messages: "ok")
    secret = create_network(
        [Agent("A", "a", model=model)],
        state_store=SqliteStateStore(path),
        encrypt_checkpoints=b"k" * 32,
    )
    async with secret:
        await secret.run("hidden", thread_id="t-encrypted")
    plain = create_network([Agent("A", "a", model=model)], state_store=SqliteStateStore(path))
    async with plain:
        await plain.run("visible", thread_id="t-plain")
        assert [s.thread_id for s in await plain.list_threads()] == ["t-plain"]
    assert "Thread 't-encrypted' is left out of the listing" in caplog.text
