"""PostgreSQL under load: a graph_agents network against a hand-written LangGraph graph.

The workload of ``tests/faults``: two agents on `ScriptedModel`, a tool that appends to
shared state, one handoff, six messages per run. 500 runs over 100 threads at
concurrency 1, 20 and 100, on the default pool (10 connections) of each side: ours is
`PostgresStateStore`; the baseline is the same graph written against LangGraph with
``AsyncPostgresSaver`` on a psycopg pool of the same size. A thread's runs never
overlap (concurrent workers own disjoint threads).

The two sides alternate in chunks of 100 runs (one run on each thread) in the same
process, so the machine's noise hits both alike; throughput is reported per chunk
(median and range), latency over every run (p50, p95), and every error is counted.

``--delay-ms 2`` puts a small TCP proxy (its own process) between both sides and the
server, adding that much to every round trip, as a database one network hop away would.

    python benchmarks/postgres_load.py [--dsn DSN] [--runs 500] [--concurrency 1 20 100]
                                       [--delay-ms 0 2] [--baseline-durability async]
                                       [--ceiling]

``--ceiling`` adds a third side: our network on LangGraph's own saver (no thread locks,
no fencing, no retries), which shows what the store layer costs against the graph.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import operator
import os
import socket
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict, cast

import psycopg
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from graph_agents import Agent, PostgresStateStore, SharedState, create_network
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall

THREADS = 100
CHUNK = THREADS
Run = Callable[[str, str], Awaitable[None]]


# --- the workload's models ------------------------------------------------------------


def _since_last_question(messages: list[BaseMessage]) -> tuple[str, list[BaseMessage]]:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return str(messages[index].content), messages[index + 1 :]
    return "", []


def clerk_model() -> ScriptedModel:
    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        query, after = _since_last_question(messages)
        if not any(isinstance(m, ToolMessage) for m in after):
            return ScriptedResponse(tool_calls=[ToolCall("note", {"text": query})])
        return ScriptedResponse(tool_calls=[ToolCall("transfer_to_filer", {"reason": "noted"})])

    return ScriptedModel(responder=respond)


def filer_model() -> ScriptedModel:
    return ScriptedModel(responder=lambda messages: f"filed {_since_last_question(messages)[0]}")


# --- ours -----------------------------------------------------------------------------


async def note(text: str, state: SharedState) -> str:
    """Note a request in the shared log.

    Args:
        text: What was asked.
    """
    await state.append("log", text)
    return f"noted {text}"


def ours(
    dsn: str, durability: str | None = None, store: Any = None
) -> tuple[Run, Callable[[], Awaitable[None]]]:
    network = create_network(
        agents=[
            Agent("Clerk", "Note requests, then hand off.", tools=[note], model=clerk_model()),
            Agent("Filer", "File what was noted.", model=filer_model()),
        ],
        router=lambda state, query: "Clerk",
        state_store=store or PostgresStateStore(dsn),
        durability=durability,  # type: ignore[arg-type]
    )

    async def run(thread: str, query: str) -> None:
        result = await network.run(query, thread_id=thread)
        assert result.output == f"filed {query}", result.output

    return run, network.aclose


# --- the hand-written baseline --------------------------------------------------------


class RawState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    log: Annotated[list[str], operator.add]
    active: str


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "note",
            "description": "Note a request in the shared log.",
            "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "transfer_to_filer",
            "description": "Hand over to Filer.",
            "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}},
        },
    },
]


async def upstream_saver(dsn: str) -> tuple[AsyncPostgresSaver, AsyncConnectionPool[Any]]:
    """LangGraph's saver on a pool of the default size, as its documentation sets it up."""
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        dsn,
        max_size=10,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open(wait=True)
    saver = AsyncPostgresSaver(pool)
    await saver.setup()
    return saver, pool


async def ceiling(dsn: str) -> tuple[Run, Callable[[], Awaitable[None]]]:
    """Our network on LangGraph's own saver: no thread locks, no fencing, no retries.
    What our graph costs on Postgres, whatever the store layer does."""
    saver, pool = await upstream_saver(dsn)
    run, close = ours(dsn, "sync", saver)

    async def close_both() -> None:
        await close()
        await pool.close()

    return run, close_both


async def baseline(dsn: str, durability: str) -> tuple[Run, Callable[[], Awaitable[None]]]:
    saver, pool = await upstream_saver(dsn)
    clerk = clerk_model().bind_tools(TOOLS)
    filer = filer_model()

    async def clerk_node(state: RawState) -> dict[str, Any]:
        return {"messages": [await clerk.ainvoke(state["messages"])]}

    async def clerk_tools(state: RawState) -> dict[str, Any]:
        message = state["messages"][-1]
        assert isinstance(message, AIMessage)
        call = message.tool_calls[0]
        if call["name"] == "note":
            text = call["args"]["text"]
            return {
                "messages": [ToolMessage(f"noted {text}", tool_call_id=call["id"])],
                "log": [text],
            }
        return {
            "messages": [ToolMessage("Transferred to Filer.", tool_call_id=call["id"])],
            "active": "Filer",
        }

    async def filer_node(state: RawState) -> dict[str, Any]:
        return {"messages": [await filer.ainvoke(state["messages"])]}

    def after_clerk(state: RawState) -> str:
        message = state["messages"][-1]
        return "clerk_tools" if isinstance(message, AIMessage) and message.tool_calls else END

    def after_tools(state: RawState) -> str:
        return "filer" if state["active"] == "Filer" else "clerk"

    builder = StateGraph(RawState)
    builder.add_node("clerk", clerk_node)
    builder.add_node("clerk_tools", clerk_tools)
    builder.add_node("filer", filer_node)
    builder.add_edge(START, "clerk")
    builder.add_conditional_edges("clerk", after_clerk, ["clerk_tools", END])
    builder.add_conditional_edges("clerk_tools", after_tools, ["clerk", "filer"])
    builder.add_edge("filer", END)
    graph = builder.compile(checkpointer=saver)

    async def run(thread: str, query: str) -> None:
        config: Any = {"configurable": {"thread_id": thread}}
        inputs: Any = {"messages": [HumanMessage(query)], "active": "Clerk"}
        final = await graph.ainvoke(inputs, config, durability=cast(Any, durability))
        assert final["messages"][-1].content == f"filed {query}"

    return run, pool.close


# --- the delaying proxy ---------------------------------------------------------------


def _proxy_main(port: int, target: tuple[str, int], delay: float, ready: Any) -> None:
    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Each chunk goes on after `delay`, in order, without holding back the next read.
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            writer.close()

        sender = asyncio.ensure_future(send())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + delay, data))
        except ConnectionError:
            pass
        queue.put_nowait((0.0, b""))
        await sender

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*target)
        for sock in (client_w, server_w):
            raw = sock.get_extra_info("socket")
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(
            pump(client_r, server_w), pump(server_r, client_w), return_exceptions=True
        )

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def start_proxy(dsn: str, delay_ms: float) -> tuple[str, multiprocessing.Process]:
    """A proxy adding ``delay_ms`` to every round trip (half each way); its DSN."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    target = (str(info.get("host", "127.0.0.1")), int(str(info.get("port", 5432))))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = multiprocessing.Event()
    process = multiprocessing.Process(
        target=_proxy_main, args=(port, target, delay_ms / 2000, ready), daemon=True
    )
    process.start()
    ready.wait(10)
    info.update(host="127.0.0.1", port=str(port))
    return psycopg.conninfo.make_conninfo(**info), process  # type: ignore[arg-type]


# --- driving ---------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.chunk_rates: list[float] = []
        self.errors: dict[str, int] = {}


async def chunk(run: Run, prefix: str, index: int, concurrency: int, tally: Tally) -> None:
    """One run on each of the THREADS threads; workers own disjoint threads."""
    threads = [f"{prefix}-{t}" for t in range(THREADS)]
    owned = [threads[w::concurrency] for w in range(concurrency)]

    async def worker(mine: list[str]) -> None:
        for thread in mine:
            began = time.perf_counter()
            try:
                await run(thread, f"q{index} {thread}")
            except Exception as exc:  # counted, never hidden
                name = type(exc).__name__
                tally.errors[name] = tally.errors.get(name, 0) + 1
            else:
                tally.latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker(mine) for mine in owned if mine))
    tally.chunk_rates.append(len(threads) / (time.perf_counter() - began))


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    dsn: str,
    runs: int,
    concurrency: int,
    durability: str,
    our_durability: str | None,
    with_ceiling: bool,
) -> dict[str, Tally]:
    sides: dict[str, tuple[Run, Callable[[], Awaitable[None]]]] = {
        "ours": ours(dsn, our_durability),
        "baseline": await baseline(dsn, durability),
    }
    if with_ceiling:
        sides["ceiling"] = await ceiling(dsn)
    tag = uuid.uuid4().hex[:8]
    tallies = {name: Tally() for name in sides}
    try:
        for name, (run, _) in sides.items():
            await run(f"warm-{name}-{tag}", "warm")
        order = list(sides)
        for index in range(max(1, runs // CHUNK)):
            for name in order:
                await chunk(sides[name][0], f"{name}-{tag}", index, concurrency, tallies[name])
            order.reverse()  # alternate who goes first
    finally:
        for _, close in sides.values():
            await close()
    return tallies


def report(label: str, tally: Tally) -> str:
    rates = tally.chunk_rates
    errors = sum(tally.errors.values())
    detail = f" {tally.errors}" if errors else ""
    return (
        f"{label:<9} {statistics.median(rates):7.1f} runs/s ({min(rates):.1f}-{max(rates):.1f})"
        f"  p50 {1000 * quantile(tally.latencies, 0.5):6.1f} ms"
        f"  p95 {1000 * quantile(tally.latencies, 0.95):6.1f} ms  errors {errors}{detail}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn",
        default=os.environ.get(
            "GRAPH_AGENTS_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20, 100])
    parser.add_argument("--delay-ms", type=float, nargs="+", default=[0.0, 2.0])
    parser.add_argument("--baseline-durability", default="async", choices=["sync", "async"])
    parser.add_argument(
        "--our-durability", default=None, choices=["sync", "async"], help="default: the store's"
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also run our network on LangGraph's own saver (no locks, no fencing)",
    )
    args = parser.parse_args()
    print(
        f"{args.runs} runs over {THREADS} threads per side, chunks of {CHUNK} alternating; "
        f"baseline durability={args.baseline_durability!r}, ours "
        f"{args.our_durability or 'sync (the Postgres default)'!r}"
    )
    for delay in args.delay_ms:
        dsn, proxy = (args.dsn, None) if delay == 0 else start_proxy(args.dsn, delay)
        try:
            for concurrency in args.concurrency:
                tallies = await measure(
                    dsn,
                    args.runs,
                    concurrency,
                    args.baseline_durability,
                    args.our_durability,
                    args.ceiling,
                )
                base = statistics.median(tallies["baseline"].chunk_rates)
                print(f"\n+{delay:g} ms round trip, concurrency {concurrency}:")
                for name, tally in tallies.items():
                    print("  " + report(name, tally))
                for name in tallies:
                    if name != "baseline":
                        ratio = statistics.median(tallies[name].chunk_rates) / base
                        print(f"  throughput {name}/baseline: {ratio:.2f}x")
        finally:
            if proxy is not None:
                proxy.terminate()


if __name__ == "__main__":
    asyncio.run(main())
