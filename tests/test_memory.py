"""Memory: ranking, injection, storing once, reflection, eviction, scopes, persistence,
the HTTP client against a real ``chroma run``, and the errors; deterministic embeddings
(one test with the real local MiniLM)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import SystemMessage

from graph_agents import (
    Agent,
    ConfigurationError,
    Event,
    Step,
    create_network,
    create_workflow,
    tool_from,
)
from graph_agents.memory import MemoryManager, RetrievalWeights, VectorMemoryStore
from graph_agents.memory.store import StoredMemory
from graph_agents.memory.turns import remember_exchange
from graph_agents.testing import HashEmbeddings, ScriptedModel, ToolCall

from .web import free_port


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def store(name: str | None = None, **kwargs: Any) -> VectorMemoryStore:
    return VectorMemoryStore(
        name or f"mem_{uuid.uuid4().hex[:10]}",
        embeddings=kwargs.pop("embeddings", HashEmbeddings()),
        **kwargs,
    )


def test_the_ranking_combines_relevance_recency_and_importance() -> None:
    clock = Clock()
    manager = MemoryManager(store(), clock=clock, weights=RetrievalWeights(decay=0.5))
    hour = 3600.0

    def row(memory_id: str, distance: float, hours_ago: float, importance: float) -> StoredMemory:
        return StoredMemory(
            memory_id,
            memory_id,
            {
                "last_accessed": clock.now - hours_ago * hour,
                "importance": importance,
                "kind": "fact",
            },
            distance,
        )

    ranked = manager.rank(
        [
            row("relevant-old", 0.1, 4, 2),  # 0.9 + 0.0625 + 0.2
            row("fresh", 0.7, 0, 2),  # 0.3 + 1.0 + 0.2
            row("important", 0.6, 1, 10),  # 0.4 + 0.5 + 1.0
            row("weak", 0.9, 3, 1),  # 0.1 + 0.125 + 0.1
        ]
    )
    assert [(m.id, m.score) for m in ranked] == [
        ("important", 1.9),
        ("fresh", 1.5),
        ("relevant-old", 1.1625),
        ("weak", 0.325),
    ]
    only_relevance = MemoryManager(
        store(), clock=clock, weights=RetrievalWeights(recency=0, importance=0)
    )
    assert [m.id for m in only_relevance.rank([row("a", 0.5, 0, 9), row("b", 0.2, 9, 1)])] == [
        "b",
        "a",
    ]


async def test_search_returns_the_best_and_updates_last_accessed() -> None:
    clock = Clock()
    manager = MemoryManager(store(), clock=clock, scope="user")
    seat = await manager.add("The user prefers window seats on flights", user_id="u1")
    await manager.add("The user drinks green tea", user_id="u1")
    clock.now += 7200
    [best] = await manager.search("window seats on flights", k=1, user_id="u1")
    assert best.id == seat.id
    assert best.kind == "fact"
    assert best.relevance is not None
    assert best.relevance > 0.5
    [again] = [m for m in await manager.all(user_id="u1") if m.id == seat.id]
    assert again.last_accessed == clock.now
    assert again.created_at == clock.now - 7200


async def test_recalled_memories_are_in_the_model_request() -> None:
    memory = MemoryManager(store(), top_k=2)
    model = ScriptedModel(["Window seat booked."])
    network = create_network(agents=[Agent("Assistant", "Book trips.", model=model, memory=memory)])
    await memory.add("The user always wants a window seat", agent="Assistant", importance=8)
    events: list[Event] = []
    result = await network.run("Book my flight to Rome", stream_callback=events.append)
    prompt = model.calls[0].messages
    assert isinstance(prompt[0], SystemMessage)
    assert prompt[0].content == "Book trips."
    block = prompt[1]
    assert isinstance(block, SystemMessage)
    assert block.text.endswith(
        "<memories>\n- (fact) The user always wants a window seat\n</memories>"
    )
    recalled = next(e for e in events if e.type == "memory.recalled")
    stored = next(e for e in events if e.type == "memory.stored")
    assert recalled.data["count"] == 1
    assert "window" not in json.dumps(recalled.data)  # ids, never content
    types = [e.type for e in events]
    assert types.index("memory.recalled") < types.index("message.delta")
    assert types.index("memory.stored") < types.index("run.completed")
    memories = await memory.all(agent="Assistant")
    exchange = next(m for m in memories if m.kind == "observation")
    assert exchange.text == "User: Book my flight to Rome\nAssistant: Window seat booked."
    assert exchange.thread_id == result.thread_id
    assert stored.data == {"ids": [exchange.id], "kind": "observation"}


async def test_an_exchange_is_stored_once_across_an_approval_and_a_resume(tmp_path: Path) -> None:
    from graph_agents import SqliteStateStore

    async def book(city: str) -> str:
        """Book.

        Args:
            city: Where.
        """
        return f"Booked {city}."

    memory = MemoryManager(store(), enable_reflection=False)
    model = ScriptedModel(
        responder=lambda messages: (
            ToolCall("book", {"city": "Rome"})
            if messages[-1].type == "human"
            else "Your trip to Rome is booked."
        )
    )
    network = create_network(
        agents=[
            Agent(
                "Agent",
                "Book.",
                model=model,
                tools=[tool_from(book, requires_approval=True)],
                memory=memory,
            )
        ],
        state_store=SqliteStateStore(tmp_path / "once.sqlite"),
    )
    async with network:
        paused = await network.run("Book Rome", thread_id="t-once")
        assert await memory.count(agent="Agent") == 0  # no answer yet: nothing stored
        done = await network.resume("t-once", approve=True)
    assert done.output == "Your trip to Rome is booked."
    [exchange] = await memory.all(agent="Agent")
    assert exchange.text == "User: Book Rome\nAgent: Your trip to Rome is booked."
    assert paused.thread_id == exchange.thread_id
    # The same turn stored again (a step re-run after a crash) replaces, never adds.
    again = await remember_exchange(
        memory,
        request="Book Rome",
        answer="Your trip to Rome is booked.",
        agent="Agent",
        network=None,
        user_id=None,
        thread_id="t-once",
        key="t-once|task-1|Agent",
    )
    twice = await remember_exchange(
        memory,
        request="Book Rome",
        answer="Your trip to Rome is booked.",
        agent="Agent",
        network=None,
        user_id=None,
        thread_id="t-once",
        key="t-once|task-1|Agent",
    )
    assert again.id == twice.id
    assert await memory.count(agent="Agent") == 2


async def test_reflection_at_the_threshold_cites_its_sources() -> None:
    memory = MemoryManager(store(), reflection_threshold=15.0)
    answers = iter(["Noted.", "Noted again."])
    model = ScriptedModel(
        responder=lambda messages: (
            "- The user is vegetarian and plans trips to Italy"
            if "high-level insights" in messages[-1].text
            else next(answers)
        )
    )
    network = create_network(agents=[Agent("A", "a", model=model, memory=memory)])
    await network.run("Remember: I am vegetarian, always book veggie meals")
    assert [m.kind for m in await memory.all(agent="A")] == ["observation"]
    await network.run("I prefer trips to Italy, remember that")
    memories = await memory.all(agent="A")
    observations = [m for m in memories if m.kind == "observation"]
    [reflection] = [m for m in memories if m.kind == "reflection"]
    assert reflection.text == "The user is vegetarian and plans trips to Italy"
    assert set(reflection.sources) == {m.id for m in observations}
    asks = [c for c in model.calls if "high-level insights" in c.messages[-1].text]
    assert len(asks) == 1
    assert "I prefer trips to Italy" in asks[0].messages[-1].text


async def test_a_failing_reflection_never_fails_the_run(caplog: pytest.LogCaptureFixture) -> None:
    memory = MemoryManager(store(), reflection_threshold=1.0)

    def respond(messages: list[Any]) -> Any:
        if "high-level insights" in messages[-1].text:
            raise RuntimeError("model down")
        return "ok"

    network = create_network(
        agents=[Agent("A", "a", model=ScriptedModel(responder=respond), memory=memory)]
    )
    result = await network.run("Remember my birthday is in May")
    assert result.output == "ok"
    assert [m.kind for m in await memory.all(agent="A")] == ["observation"]
    assert any("Reflection on 1 memories" in r.getMessage() for r in caplog.records)


async def test_eviction_keeps_the_cap_and_drops_the_lowest_retention_first() -> None:
    clock = Clock()
    memory = MemoryManager(store(), max_memories=3, clock=clock)
    keep = await memory.add("pinned fact", agent="A", importance=9)
    low = await memory.add("trivial fact", agent="A", importance=1)
    mid = await memory.add("middling fact", agent="A", importance=5)
    clock.now += 1
    newest = await memory.add("another fact", agent="A", importance=3)
    assert await memory.count(agent="A") == 3
    assert {m.id for m in await memory.all(agent="A")} == {keep.id, mid.id, newest.id}
    assert low.id not in {m.id for m in await memory.all(agent="A")}
    # A covered observation goes before anything else, however important.
    covered = await memory.add("seen before", agent="A", importance=10, kind="observation")
    await memory.store.call(64, "update", ids=[covered.id], metadatas=[{"covered": True}])
    await memory.add("fresh one", agent="A", importance=2)
    remaining = {m.text for m in await memory.all(agent="A")}
    assert "seen before" not in remaining
    assert await memory.count(agent="A") == 3


async def test_eviction_trades_importance_against_hours_since_last_access() -> None:
    async def survivors(old: float, hours: float, new: float, kind: str = "fact") -> set[str]:
        clock = Clock()
        memory = MemoryManager(store(), max_memories=2, clock=clock)
        await memory.add("old one", agent="A", importance=old, kind=kind)  # type: ignore[arg-type]
        clock.now += hours * 3600
        await memory.add("new one", agent="A", importance=new)
        await memory.add("top one", agent="A", importance=9)  # over the cap: one goes
        return {m.text for m in await memory.all(agent="A")}

    # 0.8 * 0.995**10 = 0.76 outlives a fresh 0.7; 0.7 * 0.995**100 = 0.42 does not outlive 0.5.
    assert await survivors(8, 10, 7) == {"old one", "top one"}
    assert await survivors(7, 100, 5) == {"new one", "top one"}
    # An observation no reflection covers is weighed like any other memory.
    assert await survivors(9, 0, 1, kind="observation") == {"old one", "top one"}


async def test_scopes_never_see_each_others_memories() -> None:
    shared = store()
    per_agent = MemoryManager(shared, scope="agent")
    await per_agent.add("alpha secret", agent="Alpha")
    await per_agent.add("beta secret", agent="Beta")
    assert [m.text for m in await per_agent.search("secret", agent="Alpha")] == ["alpha secret"]
    per_user = MemoryManager(shared, scope="user")
    await per_user.add("ann likes jazz", user_id="ann")
    assert await per_user.search("likes jazz", user_id="bob") == []
    assert [m.text for m in await per_user.search("likes jazz", user_id="ann")] == [
        "ann likes jazz"
    ]
    with pytest.raises(ConfigurationError, match="pass user_id"):
        await per_user.search("jazz")
    team = MemoryManager(shared, scope="network")
    writer = ScriptedModel(["Written."])
    network = create_network(
        agents=[
            Agent("W", "w", model=writer, memory=team),
            Agent("R", "r", memory=team, model=ScriptedModel(["x"])),
        ],
        name="newsroom",
    )
    await network.run("Draft the weekly memo")
    assert [m.agent for m in await team.all(network="newsroom")] == ["W"]
    assert await team.all(network="other") == []
    assert await per_agent.count(agent="W") == 0
    users = MemoryManager(store(), scope="user")
    helper = create_network(
        agents=[Agent("H", "h", model=ScriptedModel(["Sure.", "Sure."]), memory=users)]
    )
    await helper.run("Remember I like tea", user_id="ann")
    await helper.run("Remember I like coffee", user_id="bob")
    assert [m.text.splitlines()[0] for m in await users.all(user_id="ann")] == [
        "User: Remember I like tea"
    ]


async def test_user_scope_in_a_workflow_and_a_missing_user_id_fails_before_any_call() -> None:
    users = MemoryManager(store(), scope="user")
    model = ScriptedModel(["Noted.", "Noted again."])
    helper = Agent("Helper", "h", model=model, memory=users)
    workflow = create_workflow(
        name="notes", agents=[helper], steps=[Step.agent("helper", "Note: {note}")]
    )
    await workflow.run({"note": "ann takes the window seat"}, user_id="ann")
    assert [m.user_id for m in await users.all(user_id="ann")] == ["ann"]
    assert await users.all(user_id="bob") == []
    with pytest.raises(ConfigurationError, match=r"\['Helper'\] has scope='user'; pass user_id"):
        await workflow.run({"note": "x"})
    network = create_network(agents=[helper], name="desk")
    with pytest.raises(ConfigurationError, match=r"Network 'desk'.*pass user_id"):
        await network.run("Remember this")
    with pytest.raises(ConfigurationError, match=r"user_id=''; pass the user's id"):
        await network.run("Remember this", user_id="")
    assert len(model.calls) == 1  # only the first workflow run reached the model


WRITER = """
import asyncio, sys
from graph_agents.memory import MemoryManager, VectorMemoryStore
from graph_agents.testing import HashEmbeddings
async def main():
    store = VectorMemoryStore("shared_mem", path=sys.argv[1], embeddings=HashEmbeddings())
    memory = MemoryManager(store)
    await memory.add("The user's dog is called Rex", agent="A", importance=7)
asyncio.run(main())
"""


async def test_memories_persist_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "chroma")
    await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", WRITER, path], check=True, timeout=120
    )
    memory = MemoryManager(VectorMemoryStore("shared_mem", path=path, embeddings=HashEmbeddings()))
    [found] = await memory.search("what is the dog called", agent="A")
    assert found.text == "The user's dog is called Rex"
    assert found.importance == 7


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail(f"no chroma CLI at {chroma}: the chromadb package installs it")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "chroma run exited"
                assert time.monotonic() < deadline, "chroma run did not start"
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(20)


async def test_the_http_client_against_chroma_run(chroma_server: int) -> None:
    first = MemoryManager(
        VectorMemoryStore(
            "http_mem", host="127.0.0.1", port=chroma_server, embeddings=HashEmbeddings()
        )
    )
    await first.add("Meetings are on Tuesdays", agent="A")
    second = MemoryManager(
        VectorMemoryStore(
            "http_mem", host="127.0.0.1", port=chroma_server, embeddings=HashEmbeddings()
        )
    )
    [found] = await second.search("when are meetings", agent="A")
    assert found.text == "Meetings are on Tuesdays"
    assert await second.forget(found.id)
    assert await first.count(agent="A") == 0


async def test_a_collection_reopened_with_other_embeddings_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "chroma")
    await MemoryManager(VectorMemoryStore("dims", path=path, embeddings=HashEmbeddings(64))).add(
        "x y z", agent="A"
    )
    other = MemoryManager(VectorMemoryStore("dims", path=path, embeddings=HashEmbeddings(32)))
    with pytest.raises(
        ConfigurationError,
        match=r"holds vectors of 'hash-embeddings-64' \(64 dimensions\).*"
        r"'hash-embeddings-32' \(32 dimensions\)",
    ):
        await other.search("x", agent="A")


@pytest.mark.parametrize("name", ["ab", "-bad", "bad-", "has space", "a..b", "x" * 513, 7])
def test_bad_collection_names_are_refused_up_front(name: Any) -> None:
    with pytest.raises(ConfigurationError, match="is not valid for Chroma"):
        VectorMemoryStore(name, embeddings=HashEmbeddings())


def test_other_bad_settings_are_clear() -> None:
    with pytest.raises(ConfigurationError, match="one of path, client and host"):
        VectorMemoryStore("okay", path="/tmp/x", host="localhost")
    with pytest.raises(ConfigurationError, match="scope='team'"):
        MemoryManager(store(), scope="team")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="max_memories=0"):
        MemoryManager(store(), max_memories=0)
    with pytest.raises(ConfigurationError, match="is not a MemoryManager"):
        create_network(agents=[Agent("A", "a", model=ScriptedModel(["x"]), memory="lots")])
    for bad, message in [
        ({"relevance": -1}, "relevance=-1 is out of range: it must be at least 0."),
        ({"importance": "high"}, "importance='high' must be a finite number, at least 0."),
        ({"recency": float("nan")}, "recency=nan must be a finite number, at least 0."),
        (
            {"relevance": 0, "recency": 0, "importance": 0},
            "relevance, recency and importance are all 0; give at least one a weight above 0.",
        ),
        (
            {"decay": 1.5},
            "decay=1.5 is out of range: it must be greater than 0 and at most 1. It is the "
            "recency multiplier per hour.",
        ),
        ({"decay": 0}, "decay=0 is out of range: it must be greater than 0 and at most 1."),
        ({"candidates": 0}, "candidates=0 must be at least 1."),
    ]:
        with pytest.raises(ConfigurationError) as error:
            RetrievalWeights(**bad)
        assert str(error.value).startswith(f"RetrievalWeights: {message}")
    edges = RetrievalWeights(relevance=0, recency=0, importance=0.1, decay=1, candidates=1)
    assert (edges.decay, edges.candidates) == (1, 1)  # the edges are allowed
    assert MemoryManager(store(), reflection_threshold=0.5).reflection_threshold == 0.5
    for threshold, why in [(0, "is out of range"), (-1, "is out of range"), ("10", "must be")]:
        with pytest.raises(ConfigurationError) as error:
            MemoryManager(store(), reflection_threshold=threshold)  # type: ignore[arg-type]
        assert str(error.value).startswith(
            f"MemoryManager: reflection_threshold={threshold!r} {why}"
        )


async def test_chromas_downloading_default_never_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Chroma's ONNX default embedding function was used")

    monkeypatch.setattr(onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "__init__", refuse)
    monkeypatch.setattr(onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "__call__", refuse)
    memory = MemoryManager(store())
    await memory.add("no downloads here", agent="A")
    assert [m.text for m in await memory.search("downloads", agent="A")] == ["no downloads here"]


async def test_the_real_local_minilm_recalls_by_meaning(tmp_path: Path) -> None:
    memory = MemoryManager(
        VectorMemoryStore("minilm_mem", path=str(tmp_path / "c"), embeddings="local")
    )
    await memory.add("The user is allergic to peanuts", agent="A", importance=5)
    await memory.add("The user's favourite colour is green", agent="A", importance=5)
    [best] = await memory.search("Which foods must I avoid serving?", k=1, agent="A")
    assert best.text == "The user is allergic to peanuts"


async def test_a_store_outage_fails_the_step_and_resume_stores_the_exchange_once(
    tmp_path: Path,
) -> None:
    from graph_agents import SqliteStateStore, StoreError

    class Flaky(VectorMemoryStore):
        down = True

        async def call(self, dimension: int, method: str, **kwargs: Any) -> Any:
            if self.down and method == "upsert":
                raise StoreError("chroma is down", store="flaky", operation="memory upsert")
            return await super().call(dimension, method, **kwargs)

    flaky = Flaky(f"mem_{uuid.uuid4().hex[:10]}", embeddings=HashEmbeddings())
    memory = MemoryManager(flaky, enable_reflection=False)
    model = ScriptedModel(responder=lambda messages: "Answer kept.")
    network = create_network(
        agents=[Agent("A", "a", model=model, memory=memory)],
        state_store=SqliteStateStore(tmp_path / "outage.sqlite"),
    )
    async with network:
        with pytest.raises(StoreError, match="chroma is down"):
            await network.run("Keep this", thread_id="t-out")
        assert await memory.count(agent="A") == 0
        flaky.down = False
        result = await network.resume("t-out")
    assert result.output == "Answer kept."
    [exchange] = await memory.all(agent="A")
    assert exchange.text == "User: Keep this\nA: Answer kept."


def test_the_heuristic_importance() -> None:
    from graph_agents.memory.reflection import heuristic_importance

    assert heuristic_importance("ok") == 2.05  # 2 + 2 * (1 word / 40)
    assert heuristic_importance("I always prefer tea") == 7.2  # 2 hits, 4 words
    assert heuristic_importance(" ".join(["word"] * 80)) == 4.0  # length caps at 1
    assert heuristic_importance("always never prefer must remember") == 10.0  # capped


async def test_forget_clear_count_and_the_defaults(caplog: pytest.LogCaptureFixture) -> None:
    import dataclasses

    manager = MemoryManager(store())
    assert (manager.top_k, manager.max_memories, manager.scope) == (5, 1000, "agent")
    added = [await manager.add(f"fact number {i}", agent="A") for i in range(7)]
    assert len(await manager.search("fact number", agent="A")) == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        added[0].text = "changed"  # type: ignore[misc]
    assert await manager.forget("mem_does_not_exist") is False
    assert await manager.forget(added[0].id) is True
    assert await manager.count(agent="A") == 6
    assert await manager.clear(agent="A") == 6
    assert await manager.count(agent="A") == 0
    assert await manager.clear(agent="A") == 0


async def test_a_failing_last_accessed_update_is_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = MemoryManager(store())
    await manager.add("the user likes jazz", agent="A")
    real = manager.store.call

    async def failing(dimension: int, method: str, **kwargs: Any) -> Any:
        if method == "update":
            raise RuntimeError("chroma is read-only")
        return await real(dimension, method, **kwargs)

    monkeypatch.setattr(manager.store, "call", failing)
    found = await manager.search("jazz", agent="A")
    assert [m.text for m in found] == ["the user likes jazz"]
    await manager.flush()
    assert "Updating recalled memories' last access failed: chroma is read-only" in caplog.text


WITHOUT_MEMORY = """
import sys
from graph_agents import Agent, create_network
from graph_agents.testing import ScriptedModel
network = create_network(agents=[Agent("Solo", "Answer.", model=ScriptedModel(["Hi."]))])
print(network.run_sync("Hello").output, "chromadb" in sys.modules)
"""


def test_a_network_without_memory_never_loads_chroma() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_MEMORY], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Hi.", "False"]


async def test_warmup_loads_the_embeddings_and_checks_the_collection_before_any_turn(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "chroma")
    embeddings = HashEmbeddings(64)
    memory = MemoryManager(VectorMemoryStore("warm", path=path, embeddings=embeddings))
    model = ScriptedModel(["Noted."])
    agent = Agent("A", "a", model=model, memory=memory)
    network = create_network(agents=[agent])
    workflow = create_workflow("flow", [agent], [Step.agent("A", "Go")])
    await network.warmup()
    assert embeddings.calls == 1  # the model ran once; the collection is open
    await workflow.warmup()
    assert embeddings.calls == 1  # already warm
    assert (await network.run("Remember tea")).output == "Noted."
    other = MemoryManager(VectorMemoryStore("warm", path=path, embeddings=HashEmbeddings(32)))
    mismatched = create_network(agents=[Agent("A", "a", model=ScriptedModel(["x"]), memory=other)])
    with pytest.raises(ConfigurationError, match=r"holds vectors of 'hash-embeddings-64'"):
        await mismatched.warmup()
