"""Per-turn overhead of a graph_agents network against a hand-written LangGraph graph.

Both run the same shape on the same `ScriptedModel`: three agents hand off in a ring
(A -> B -> C -> A ...) for nine turns, each turn one model step and one tool step, with
an in-memory checkpointer and a thread id. The ninth turn answers.

    python benchmarks/overhead.py [--runs 30] [--concurrent 200] [--rounds 3]

Prints the per-turn time of each and the ratio (graph_agents / raw LangGraph), for
sequential runs and for concurrent runs in one event loop. graph_agents runs three ways:
with tracing off (``tracing=False``), with the default (no provider configured: spans go
to the private provider that feeds ``get_traces()``), and with tracing on into an SDK
provider with the in-memory exporter; the tracing ratios compare those with tracing off.
Every round measures all four sides in turn (interleaved, each round starting with the
next side), and the spread over rounds is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, SystemMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graph_agents import Agent, create_network
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall

NAMES = ["A", "B", "C"]
TURNS = 9


def ring_model(name: str) -> ScriptedModel:
    following = NAMES[(NAMES.index(name) + 1) % len(NAMES)]

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        turn = sum(1 for m in messages if isinstance(m, AIMessage) and m.tool_calls)
        if turn >= TURNS - 1:
            return ScriptedResponse(text="final answer")
        return ScriptedResponse(
            tool_calls=[ToolCall(f"transfer_to_{following.lower()}", {"reason": "next"})]
        )

    return ScriptedModel(responder=respond)


def ours(**options: Any) -> Callable[[], Awaitable[Any]]:
    network = create_network(
        agents=[Agent(n, f"You are {n}.", model=ring_model(n)) for n in NAMES],
        max_iterations=TURNS,
        **options,
    )

    async def run() -> Any:
        result = await network.run("go", thread_id=str(uuid.uuid4()))
        assert result.iterations == TURNS, result
        return result

    return run


class RawState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    active: str


def _model_node(bound: Any, system: SystemMessage) -> Any:
    async def model_node(state: RawState) -> dict[str, Any]:
        return {"messages": [await bound.ainvoke([system, *state["messages"]])]}

    return model_node


def raw() -> Callable[[], Awaitable[Any]]:
    """The same ring written directly against LangGraph."""
    builder = StateGraph(RawState)
    for name in NAMES:
        others = [n for n in NAMES if n != name]
        schemas = [
            {
                "type": "function",
                "function": {
                    "name": f"transfer_to_{o.lower()}",
                    "description": f"Hand over to {o}.",
                    "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}},
                },
            }
            for o in others
        ]
        bound = ring_model(name).bind_tools(schemas)
        system = SystemMessage(f"You are {name}.")

        model_node = _model_node(bound, system)

        def tool_node(state: RawState) -> dict[str, Any]:
            message = state["messages"][-1]
            assert isinstance(message, AIMessage)
            call = message.tool_calls[0]
            target = call["name"].removeprefix("transfer_to_").upper()
            return {
                "messages": [ToolMessage(f"Transferred to {target}.", tool_call_id=call["id"])],
                "active": target,
            }

        def after_model(state: RawState, name: str = name) -> str:
            message = state["messages"][-1]
            return f"{name}_tools" if isinstance(message, AIMessage) and message.tool_calls else END

        def after_tools(state: RawState) -> str:
            return state["active"]

        builder.add_node(name, model_node)
        builder.add_node(f"{name}_tools", tool_node)
        builder.add_conditional_edges(name, after_model, [f"{name}_tools", END])
        builder.add_conditional_edges(f"{name}_tools", after_tools, NAMES)
    builder.add_edge(START, "A")
    graph = builder.compile(checkpointer=InMemorySaver())

    async def run() -> Any:
        config = {"configurable": {"thread_id": str(uuid.uuid4())}, "recursion_limit": 100}
        final = await graph.ainvoke({"messages": [("user", "go")], "active": "A"}, config)
        assert final["messages"][-1].content == "final answer"
        return final

    return run


def make_sides(exporter: InMemorySpanExporter) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The four sides measured: raw LangGraph, and graph_agents with tracing off, on
    its default (``get_traces()`` only), and on into ``exporter``."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return {
        "raw": raw(),
        "off": ours(tracing=False),
        "default": ours(),
        "exporter": ours(tracer_provider=provider),
    }


async def sequential(run: Callable[[], Awaitable[Any]], runs: int) -> float:
    """Median seconds per turn over ``runs`` sequential runs."""
    await run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) / TURNS)
    return statistics.median(samples)


async def concurrent(run: Callable[[], Awaitable[Any]], count: int) -> float:
    """Seconds per turn when ``count`` runs share the event loop."""
    await run()
    started = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(count)))
    return (time.perf_counter() - started) / (TURNS * count)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurement rounds")
    args = parser.parse_args()

    exporter = InMemorySpanExporter()
    sides = make_sides(exporter)
    seq: dict[str, list[float]] = {name: [] for name in sides}
    con: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_number in range(args.rounds):
        # Each round starts with the next side, so no side always runs first or last.
        shift = round_number % len(names)
        order = names[shift:] + names[:shift]
        for name in order:
            seq[name].append(await sequential(sides[name], args.runs))
        for name in order:
            con[name].append(await concurrent(sides[name], args.concurrent))
            exporter.clear()

    def spread(mine: list[float], base: list[float]) -> str:
        ratios = sorted(m / b for m, b in zip(mine, base, strict=True))
        return f"rounds {', '.join(f'{r:.2f}' for r in ratios)}"

    def line(label: str, mine: list[float], base: list[float], base_label: str) -> None:
        m, b = statistics.median(mine), statistics.median(base)
        print(
            f"  {label:<34} {m * 1e3:7.3f} ms/turn vs {base_label} {b * 1e3:7.3f}  "
            f"ratio {m / b:5.2f}x  ({spread(mine, base)})"
        )

    # Tracing on vs off, in CPU time (less sensitive to this machine's neighbours than
    # wall time), run by run in alternating order.
    cpu: dict[str, list[float]] = {"off": [], "exporter": []}
    for i in range(args.runs * 6):
        order = ("off", "exporter") if i % 2 else ("exporter", "off")
        for name in order:
            started = time.process_time()
            await sides[name]()
            cpu[name].append((time.process_time() - started) / TURNS)
        exporter.clear()
    tracing_cpu = [
        statistics.median(cpu["exporter"][i::3]) / statistics.median(cpu["off"][i::3])
        for i in range(3)
    ]

    print(f"3 agents, {TURNS} turns per run, ScriptedModel, in-memory checkpointer")
    print(
        f"tracing on (in-memory exporter) / off, CPU time per turn, {args.runs * 6} runs "
        f"each, alternating: {statistics.median(cpu['exporter']) * 1e3:.3f} / "
        f"{statistics.median(cpu['off']) * 1e3:.3f} ms = "
        f"{statistics.median(cpu['exporter']) / statistics.median(cpu['off']):.2f}x "
        f"(thirds {', '.join(f'{r:.2f}' for r in sorted(tracing_cpu))})"
    )
    for label, samples in (
        (f"sequential ({args.runs} runs)", seq),
        (f"concurrent ({args.concurrent} runs)", con),
    ):
        print(label)
        line("graph_agents, tracing off", samples["off"], samples["raw"], "raw LangGraph")
        line("graph_agents, default", samples["default"], samples["raw"], "raw LangGraph")
        line("tracing on (in-memory exporter)", samples["exporter"], samples["off"], "off")
        line("default (get_traces only)", samples["default"], samples["off"], "off")


if __name__ == "__main__":
    asyncio.run(main())
