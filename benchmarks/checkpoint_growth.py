"""Checkpoint growth on SQLite: lean channels against a hand-written ``add_messages`` graph.

One conversation thread is driven through 50, 100 and 200 turns (a turn: one run with a
new user message, one model answer) by a graph_agents network and by a hand-written
LangGraph graph with ``add_messages`` on the same `ScriptedModel`, each on its own SQLite
file, the two threads interleaved turn by turn so machine noise hits both alike. It
prints, for each length:

- stored bytes (checkpoint, metadata and write blobs) and bytes per turn;
- the median time per turn at turns 1-10 and at the last 20 turns (181-200 for 200), and
  the ratio of ours to the baseline's at the last 20 turns;
- the time to resume: a fresh network (new connection, nothing cached) running one more
  turn on the thread, the median of several.

``--durability`` also measures what each durability costs per turn (on a fresh thread,
interleaved the same way).

    python benchmarks/checkpoint_growth.py [--turns 50 100 200] [--rounds 3] [--durability]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

import aiosqlite
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from graph_agents import Agent, SqliteStateStore, create_network
from graph_agents.testing import ScriptedModel, ScriptedResponse

Turn = Callable[[int], Awaitable[None]]


def model() -> ScriptedModel:
    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        turn = sum(isinstance(m, AIMessage) for m in messages) + 1
        return ScriptedResponse(
            text=f"Answer {turn}: " + "the moth migrates by night and rests by day " * 4,
            usage=(10, 10),
        )

    return ScriptedModel(responder=respond)


def question(turn: int) -> str:
    return f"Question {turn}: where does the moth go after the rain, and why? " * 2


class Ours:
    """A one-agent graph_agents network on SQLite."""

    def __init__(self, path: Path, durability: Any = None):
        self.path = path
        self.durability = durability
        self.network = self._network()

    def _network(self) -> Any:
        agent = Agent("Guide", "Answer briefly.", model=model())
        return create_network(
            agents=[agent], state_store=SqliteStateStore(self.path), durability=self.durability
        )

    async def turn(self, turn: int) -> None:
        result = await self.network.run(question(turn), thread_id="thread")
        assert result.output.startswith(f"Answer {turn}:"), result.output

    async def resume_time(self, turn: int) -> float:
        fresh = self._network()
        started = time.perf_counter()
        result = await fresh.run(question(turn), thread_id="thread")
        elapsed = time.perf_counter() - started
        assert result.output.startswith(f"Answer {turn}:")
        await fresh.aclose()
        return elapsed

    async def aclose(self) -> None:
        await self.network.aclose()


class Plain(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class Baseline:
    """The same conversation as a hand-written LangGraph graph with ``add_messages``."""

    def __init__(self, path: Path):
        self.path = path
        self.conn: aiosqlite.Connection | None = None
        self.graph: Any = None
        self.chat = model()

    async def open(self) -> None:
        self.conn = await aiosqlite.connect(str(self.path))
        await self.conn.execute("PRAGMA journal_mode=WAL")
        saver = AsyncSqliteSaver(self.conn)
        await saver.setup()

        async def answer(state: Plain) -> dict[str, Any]:
            return {"messages": [await self.chat.ainvoke(state["messages"])]}

        builder: StateGraph[Any, Any, Any, Any] = StateGraph(Plain)
        builder.add_node("answer", answer)
        builder.add_edge(START, "answer")
        builder.add_edge("answer", END)
        self.graph = builder.compile(checkpointer=saver)

    async def turn(self, turn: int) -> None:
        final = await self.graph.ainvoke(
            {"messages": [HumanMessage(question(turn))]},
            {"configurable": {"thread_id": "thread"}},
        )
        assert final["messages"][-1].content.startswith(f"Answer {turn}:")

    async def aclose(self) -> None:
        if self.conn is not None:
            await self.conn.close()


def stored_bytes(path: Path) -> int:
    with sqlite3.connect(path) as db:
        checkpoints = db.execute(
            "SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints"
        ).fetchone()[0]
        writes = db.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes").fetchone()[0]
    return int(checkpoints + writes)


async def interleave(turns: int, sides: list[Turn]) -> list[list[float]]:
    times: list[list[float]] = [[] for _ in sides]
    for turn in range(1, turns + 1):
        for index, side in enumerate(sides):
            started = time.perf_counter()
            await side(turn)
            times[index].append(time.perf_counter() - started)
    return times


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def growth(turns: int, folder: Path) -> dict[str, float]:
    ours = Ours(folder / f"ours-{turns}.sqlite")
    baseline = Baseline(folder / f"baseline-{turns}.sqlite")
    await baseline.open()
    ours_times, base_times = await interleave(turns, [ours.turn, baseline.turn])
    await ours.aclose()
    await baseline.aclose()
    tail = min(20, turns)
    resumes = [await ours.resume_time(turns + 1 + i) for i in range(5)]
    return {
        "turns": turns,
        "ours_bytes": stored_bytes(ours.path),
        "base_bytes": stored_bytes(baseline.path),
        "ours_first": median_ms(ours_times[:10]),
        "base_first": median_ms(base_times[:10]),
        "ours_tail": median_ms(ours_times[-tail:]),
        "base_tail": median_ms(base_times[-tail:]),
        "resume": statistics.median(resumes) * 1000,
    }


async def short_resume(folder: Path) -> float:
    ours = Ours(folder / "ours-10.sqlite")
    for turn in range(1, 11):
        await ours.turn(turn)
    await ours.aclose()
    return statistics.median([await ours.resume_time(11 + i) for i in range(5)]) * 1000


async def durability_cost(folder: Path, turns: int) -> dict[str, float]:
    sides = {d: Ours(folder / f"durability-{d}.sqlite", durability=d) for d in ("sync", "async")}
    times = await interleave(turns, [side.turn for side in sides.values()])
    for side in sides.values():
        await side.aclose()
    return {d: median_ms(t) for d, t in zip(sides, times, strict=True)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--durability", action="store_true")
    args = parser.parse_args()
    summary: dict[str, list[float]] = {"tail": [], "resume": [], "bytes": [], "smaller": []}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            rows = [await growth(turns, folder) for turns in args.turns]
            ten = await short_resume(folder)
            print(
                f"{'turns':>5} {'ours B':>10} {'base B':>11} {'ours B/turn':>11} "
                f"{'base/ours':>9} {'ours 1-10':>9} {'base 1-10':>9} {'ours tail':>9} "
                f"{'base tail':>9} {'tail ratio':>10} {'resume ms':>9}"
            )
            for row in rows:
                print(
                    f"{row['turns']:>5} {row['ours_bytes']:>10,.0f} {row['base_bytes']:>11,.0f} "
                    f"{row['ours_bytes'] / row['turns']:>11,.0f} "
                    f"{row['base_bytes'] / row['ours_bytes']:>8.1f}x "
                    f"{row['ours_first']:>9.2f} {row['base_first']:>9.2f} "
                    f"{row['ours_tail']:>9.2f} {row['base_tail']:>9.2f} "
                    f"{row['ours_tail'] / row['base_tail']:>9.2f}x {row['resume']:>9.2f}"
                )
            by_turns = {row["turns"]: row for row in rows}
            if 100 in by_turns and 200 in by_turns:
                growth_ratio = by_turns[200]["ours_bytes"] / by_turns[100]["ours_bytes"]
                summary["bytes"].append(growth_ratio)
                print(f"stored bytes 200 / 100 turns: {growth_ratio:.2f} (target <= 2.3)")
            if 200 in by_turns:
                last = by_turns[200]
                summary["tail"].append(last["ours_tail"] / last["base_tail"])
                summary["smaller"].append(last["base_bytes"] / last["ours_bytes"])
                summary["resume"].append(last["resume"] / ten)
                print(
                    f"resume 200-turn / 10-turn thread: {last['resume']:.2f} / "
                    f"{ten:.2f} ms = {last['resume'] / ten:.2f}x (target <= 1.5)"
                )
            if args.durability:
                cost = await durability_cost(folder, 100)
                print(
                    f"durability, 100 turns on one thread: sync {cost['sync']:.2f} ms/turn, "
                    f"async {cost['async']:.2f} ms/turn ({cost['sync'] / cost['async']:.2f}x)"
                )
    if args.rounds > 1:
        print("over the rounds (min / median / max):")
        labels = {
            "tail": "per-turn time at the last 20 of 200 turns, ours / add_messages (<= 0.75)",
            "bytes": "stored bytes, 200 / 100 turns (<= 2.3)",
            "smaller": "add_messages bytes / ours at 200 turns (>= 10)",
            "resume": "resume time, 200-turn / 10-turn thread (<= 1.5)",
        }
        for key, label in labels.items():
            values = sorted(summary[key])
            if values:
                print(
                    f"  {label}: {values[0]:.2f} / {statistics.median(values):.2f} / "
                    f"{values[-1]:.2f}"
                )


if __name__ == "__main__":
    asyncio.run(main())
