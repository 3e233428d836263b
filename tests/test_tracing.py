"""OpenTelemetry spans: names, kinds, nesting and attributes, read with the SDK's
in-memory exporter; content capture; get_traces; OTLP/HTTP export to a loopback receiver."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import SecretStr

from graph_agents import (
    Agent,
    ModelProviderError,
    SharedState,
    SqliteStateStore,
    Step,
    create_network,
    create_workflow,
    tool_from,
)
from graph_agents import _semconv as sc
from graph_agents.exceptions import ConfigurationError, StoreError
from graph_agents.models import OpenAIModelProvider
from graph_agents.routers import RuleBasedRouter
from graph_agents.testing import OpenAIStubServer, ScriptedModel, ScriptedResponse, ToolCall
from graph_agents.tracing import CAPTURE_CONTENT_ENV, configure_tracing


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def tree(finished: tuple[ReadableSpan, ...]) -> list[tuple[str, str, str | None]]:
    """(name, kind, parent name) of every span, in start order."""
    by_id = {s.context.span_id: s for s in finished}
    rows = []
    for span in sorted(finished, key=lambda s: s.start_time or 0):
        parent = by_id[span.parent.span_id].name if span.parent is not None else None
        rows.append((span.name, span.kind.name, parent))
    return rows


def named(finished: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return sorted((s for s in finished if s.name == name), key=lambda s: s.start_time or 0)


async def lookup(city: str) -> str:
    """Look up the weather.

    Args:
        city: The city.
    """
    return f"{city}: sunny"


def team() -> list[Agent]:
    planner = ScriptedModel(
        [ToolCall("ask_scout", {"task": "weather?"}, id="c_ask"), ToolCall("transfer_to_writer")]
    )
    scout = ScriptedModel([ToolCall("lookup", {"city": "Lisbon"}, id="c_lookup"), "Sunny."])
    return [
        Agent("Planner", "p", model=planner),
        Agent("Scout", "s", tools=[lookup], model=scout),
        Agent("Writer", "w", model=ScriptedModel(["Done."])),
    ]


async def test_a_run_nests_agents_models_tools_and_delegations(spans: Any) -> None:
    provider, exporter = spans
    router = RuleBasedRouter().add_rule("trip", "Planner")
    network = create_network(team(), router=router, tracer_provider=provider, name="desk")
    result = await network.run("Plan a trip", thread_id="t-1")
    finished = exporter.get_finished_spans()
    assert tree(finished) == [
        ("invoke_workflow desk", "INTERNAL", None),
        ("invoke_agent Planner", "INTERNAL", "invoke_workflow desk"),
        ("chat scripted", "CLIENT", "invoke_agent Planner"),
        ("execute_tool ask_scout", "INTERNAL", "invoke_agent Planner"),
        ("invoke_agent Scout", "INTERNAL", "execute_tool ask_scout"),
        ("chat scripted", "CLIENT", "invoke_agent Scout"),
        ("execute_tool lookup", "INTERNAL", "invoke_agent Scout"),
        ("chat scripted", "CLIENT", "invoke_agent Scout"),
        ("chat scripted", "CLIENT", "invoke_agent Planner"),
        ("execute_tool transfer_to_writer", "INTERNAL", "invoke_agent Planner"),
        ("invoke_agent Writer", "INTERNAL", "invoke_workflow desk"),
        ("chat scripted", "CLIENT", "invoke_agent Writer"),
    ]
    assert len({s.context.trace_id for s in finished}) == 1
    [run] = named(finished, "invoke_workflow desk")
    assert dict(run.attributes or {}) == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.conversation.id": "t-1",
        "graph_agents.run.id": result.run_id,
        "graph_agents.run.kind": "network",
        "graph_agents.run.resumed": False,
        "graph_agents.run.stop_reason": "completed",
        "gen_ai.usage.input_tokens": result.usage["input_tokens"],
        "gen_ai.usage.output_tokens": result.usage["output_tokens"],
    }
    [planner] = named(finished, "invoke_agent Planner")
    planner_chats = [c for c in named(finished, "chat scripted") if c.parent == planner.context]
    assert dict(planner.attributes or {}) == {  # a top-level turn has no lane
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "Planner",
        "gen_ai.conversation.id": "t-1",
        "graph_agents.handoff.to": "Writer",
        "gen_ai.usage.input_tokens": sum(
            (c.attributes or {})["gen_ai.usage.input_tokens"] for c in planner_chats
        ),
        "gen_ai.usage.output_tokens": sum(
            (c.attributes or {})["gen_ai.usage.output_tokens"] for c in planner_chats
        ),
    }
    assert len(planner_chats) == 2
    [scout] = named(finished, "invoke_agent Scout")
    assert (scout.attributes or {})["graph_agents.lane"] == "ask:c_ask"
    [route] = planner.events
    assert route.name == "graph_agents.route.decided"
    assert dict(route.attributes or {}) == {
        "graph_agents.route.agent": "Planner",
        "graph_agents.route.router": router.name,
        "graph_agents.route.score": 1.0,
        "graph_agents.route.low_confidence": False,
        "graph_agents.route.fell_back": False,
    }
    [tool] = named(finished, "execute_tool lookup")
    assert dict(tool.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "lookup",
        "gen_ai.tool.call.id": "c_lookup",
        "gen_ai.tool.type": "function",
        "gen_ai.agent.name": "Scout",
        "gen_ai.conversation.id": "t-1",
    }
    chat = named(finished, "chat scripted")[0]
    assert chat.kind is SpanKind.CLIENT
    assert chat.attributes is not None
    assert chat.attributes["gen_ai.request.model"] == "scripted"
    assert chat.attributes["gen_ai.provider.name"] == "scripted"
    assert "gen_ai.system" not in chat.attributes
    assert all(s.status.status_code is StatusCode.UNSET for s in finished)


async def test_token_usage_from_the_http_stub(spans: Any, stub: OpenAIStubServer) -> None:
    provider, exporter = spans
    stub.add(ScriptedResponse(text="Hello there friend", usage=(11, 3)))
    model = OpenAIModelProvider(base_url=stub.base_url, api_key="sk-test").chat_model("gpt-x")
    network = create_network([Agent("A", "a", model=model)], tracer_provider=provider)
    await network.run("hi")
    finished = exporter.get_finished_spans()
    [chat] = named(finished, "chat gpt-x")
    assert chat.attributes is not None
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.attributes["gen_ai.request.model"] == "gpt-x"
    assert (
        chat.attributes["gen_ai.usage.input_tokens"],
        chat.attributes["gen_ai.usage.output_tokens"],
    ) == (11, 3)
    [turn] = named(finished, "invoke_agent A")
    assert turn.attributes is not None
    assert turn.attributes["gen_ai.usage.input_tokens"] == 11
    assert all("sk-test" not in str(s.to_json()) for s in finished)


async def test_parallel_delegations_each_nest_under_their_own_call(spans: Any) -> None:
    provider, exporter = spans
    lead = ScriptedModel(
        [
            ScriptedResponse(
                tool_calls=[
                    ToolCall("ask_north", {"task": "n"}, id="c_n"),
                    ToolCall("ask_south", {"task": "s"}, id="c_s"),
                ]
            ),
            "Both done.",
        ]
    )
    agents = [
        Agent("Lead", "l", model=lead),
        Agent("North", "n", model=ScriptedModel([ScriptedResponse(text="cold", delay=0.05)])),
        Agent("South", "s", model=ScriptedModel(["warm"])),
    ]
    await create_network(agents, tracer_provider=provider).run("go")
    finished = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None
        return by_id[span.parent.span_id]

    [north] = named(finished, "invoke_agent North")
    [south] = named(finished, "invoke_agent South")
    assert (parent(north).name, (parent(north).attributes or {})["gen_ai.tool.call.id"]) == (
        "execute_tool ask_north",
        "c_n",
    )
    assert (parent(south).name, (parent(south).attributes or {})["gen_ai.tool.call.id"]) == (
        "execute_tool ask_south",
        "c_s",
    )
    assert parent(parent(north)).name == "invoke_agent Lead"
    # The two delegations overlapped in time, and each turn ended inside its call's span.
    assert (north.start_time or 0) < (south.end_time or 0)
    for turn in (north, south):
        call = parent(turn)
        assert (call.start_time or 0) <= (turn.start_time or 0)
        assert (turn.end_time or 0) <= (call.end_time or 0)


async def test_workflow_steps_are_spans_under_the_run(spans: Any) -> None:
    provider, exporter = spans
    writer = Agent("Writer", "w", model=ScriptedModel(["intro", "body", "final"]))
    workflow = create_workflow(
        "doc",
        [writer],
        steps=[
            Step.parallel([Step.agent("writer", "Intro"), Step.agent("writer", "Body")]),
            Step.conditional(
                condition=lambda state: True,
                true_step=Step.agent("writer", "Finish"),
            ),
            Step.transform(lambda x: x.upper()),
        ],
        tracer_provider=provider,
    )
    await workflow.run()
    finished = exporter.get_finished_spans()
    steps = {s.name: (dict(s.attributes or {}), s) for s in finished if s.name.startswith("step ")}
    by_id = {s.context.span_id: s for s in finished}
    kinds = {name: attrs["graph_agents.step.kind"] for name, (attrs, _) in steps.items()}
    assert kinds == {
        "step s1_parallel": "parallel",
        "step s1_parallel_1_writer": "agent",
        "step s1_parallel_2_writer": "agent",
        "step s2_conditional": "conditional",
        "step s2_conditional_then_writer": "agent",
        "step s3_transform": "transform",
    }
    parents = {
        name: by_id[span.parent.span_id].name
        for name, (_, span) in steps.items()
        if span.parent is not None
    }
    assert parents == {
        "step s1_parallel": "invoke_workflow doc",
        "step s1_parallel_1_writer": "step s1_parallel",
        "step s1_parallel_2_writer": "step s1_parallel",
        "step s2_conditional": "invoke_workflow doc",
        "step s2_conditional_then_writer": "step s2_conditional",
        "step s3_transform": "invoke_workflow doc",
    }
    assert steps["step s2_conditional"][0]["graph_agents.step.branch"] == "then"
    turns = named(finished, "invoke_agent Writer")
    assert sorted(by_id[t.parent.span_id].name for t in turns if t.parent is not None) == [
        "step s1_parallel_1_writer",
        "step s1_parallel_2_writer",
        "step s2_conditional_then_writer",
    ]


async def test_a_resumed_run_links_to_the_run_it_continues(spans: Any) -> None:
    provider, exporter = spans

    async def pay(amount: int) -> str:
        """Pay.

        Args:
            amount: Euros.
        """
        return f"paid {amount}"

    model = ScriptedModel([ToolCall("pay", {"amount": 5}), "Paid."])
    network = create_network(
        [Agent("Clerk", "c", tools=[tool_from(pay, requires_approval=True)], model=model)],
        tracer_provider=provider,
    )
    first = await network.run("pay 5", thread_id="t-pay")
    assert first.stop_reason == "interrupted"
    second = await network.resume("t-pay", approve=True)
    assert second.output == "Paid."
    runs = named(exporter.get_finished_spans(), "invoke_workflow network")
    assert [dict(r.attributes or {})["graph_agents.run.resumed"] for r in runs] == [False, True]
    assert dict(runs[0].attributes or {})["graph_agents.run.stop_reason"] == "interrupted"
    [link] = runs[1].links
    assert (link.context.trace_id, link.context.span_id) == (
        runs[0].context.trace_id,
        runs[0].context.span_id,
    )
    resumed_turn = [
        s
        for s in named(exporter.get_finished_spans(), "invoke_agent Clerk")
        if s.context.trace_id == runs[1].context.trace_id
    ]
    assert len(resumed_turn) == 1  # the turn that resumes mid-way has a span too
    assert [s.name for s in exporter.get_finished_spans() if s.name.startswith("execute_tool")] == [
        "execute_tool pay"
    ]


async def test_errors_set_the_status_and_record_the_exception(spans: Any) -> None:
    provider, exporter = spans
    model = ScriptedModel([ModelProviderError("the model is down: secret prompt text")])
    network = create_network([Agent("A", "a", model=model)], tracer_provider=provider)
    with pytest.raises(ModelProviderError):
        await network.run("hello")
    finished = exporter.get_finished_spans()
    [chat] = named(finished, "chat scripted")
    [run] = named(finished, "invoke_workflow network")
    for span in (chat, run):
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "ModelProviderError"
        [event] = [e for e in span.events if e.name == "exception"]
        assert (event.attributes or {})["exception.type"].endswith("ModelProviderError")
        assert "secret prompt text" not in str(span.to_json())
    [turn] = named(finished, "invoke_agent A")
    assert turn.status.status_code is StatusCode.ERROR


async def test_a_run_that_fails_before_its_graph_starts_has_a_failed_span(
    spans: Any, tmp_path: Path
) -> None:
    provider, exporter = spans
    model = ScriptedModel(["Hi."])
    network = create_network(
        [Agent("A", "a", model=model)],
        state_store=SqliteStateStore(tmp_path / "t.sqlite"),
        tracer_provider=provider,
    )
    async with network:
        await network.run("hello", thread_id="t1")
        exporter.clear()
        with pytest.raises(ConfigurationError, match="has no checkpoint"):
            await network.run("again", thread_id="t1", checkpoint_id="no-such-checkpoint")
    unopenable = create_network(
        [Agent("A", "a", model=model)],
        state_store=SqliteStateStore(tmp_path),  # a folder: SQLite cannot open it
        tracer_provider=provider,
    )
    with pytest.raises(StoreError):
        await unopenable.run("hello", thread_id="t2")
    runs = named(exporter.get_finished_spans(), "invoke_workflow network")
    assert [(s.attributes or {})[sc.CONVERSATION_ID] for s in runs] == ["t1", "t2"]
    assert [s.status.description for s in runs] == ["ConfigurationError", "StoreError"]
    for span in runs:
        assert span.status.status_code is StatusCode.ERROR
        assert [e.name for e in span.events] == ["exception"]
        assert span.parent is None
    assert [s.name for s in exporter.get_finished_spans()] == [s.name for s in runs]
    assert len(model.calls) == 1


async def test_a_failing_tool_marks_its_span(spans: Any) -> None:
    provider, exporter = spans

    async def broken() -> str:
        """Always fails."""
        raise ValueError("disk on fire")

    model = ScriptedModel([ToolCall("broken"), "Sorry."])
    await create_network(
        [Agent("A", "a", tools=[broken], model=model)], tracer_provider=provider
    ).run("go")
    [tool] = named(exporter.get_finished_spans(), "execute_tool broken")
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.status.description == "the tool call failed"
    assert (tool.attributes or {})["error.type"] == "ToolError"


def secret_team(capture: bool | None) -> tuple[Any, ScriptedModel]:
    async def fetch(state: SharedState, key: str) -> str:
        """Fetch with the stored credential.

        Args:
            key: What to fetch.
        """
        credential = await state.get("credential")
        return f"fetched {key} with {credential}"

    model = ScriptedModel([ToolCall("fetch", {"key": "orders"}), "Here are the orders."])
    return (
        lambda provider: create_network(
            [Agent("A", "Be brief", tools=[fetch], model=model)],
            tracer_provider=provider,
            capture_content=capture,
        ),
        model,
    )


@pytest.mark.parametrize("capture", [None, True])
async def test_content_only_when_opted_in_and_secrets_never(
    spans: Any, capture: bool | None
) -> None:
    provider, exporter = spans
    build, _ = secret_team(capture)
    network = build(provider)
    network.state.set("credential", SecretStr("hunter2-very-secret"))
    await network.run("List my orders")
    dump = "".join(s.to_json() for s in exporter.get_finished_spans())
    assert "hunter2-very-secret" not in dump
    [tool] = named(exporter.get_finished_spans(), "execute_tool fetch")
    arguments = (tool.attributes or {}).get("gen_ai.tool.call.arguments")
    present = ("List my orders" in dump, "Here are the orders." in dump, arguments)
    assert present == ((True, True, '{"key": "orders"}') if capture else (False, False, None))
    if capture:
        [chat] = named(exporter.get_finished_spans(), "chat scripted")[:1]
        messages = str((chat.attributes or {})["gen_ai.input.messages"])
        assert '"role": "system"' in messages
        assert '"role": "user"' in messages


async def test_the_environment_variable_opts_in(
    spans: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, exporter = spans
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    network = create_network(
        [Agent("A", "a", model=ScriptedModel(["Answer text here."]))], tracer_provider=provider
    )
    await network.run("Question text here")
    dump = "".join(s.to_json() for s in exporter.get_finished_spans())
    assert "Question text here" in dump
    assert "Answer text here." in dump


async def test_user_spans_inside_a_tool_nest_under_its_span(spans: Any) -> None:
    provider, exporter = spans
    own = provider.get_tracer("mine")

    async def work() -> str:
        """Does work."""
        with own.start_as_current_span("my.db.query"):
            await asyncio.sleep(0)
        return "ok"

    model = ScriptedModel([ToolCall("work"), "Done."])
    await create_network(
        [Agent("A", "a", tools=[work], model=model)], tracer_provider=provider
    ).run("go")
    finished = exporter.get_finished_spans()
    [mine] = named(finished, "my.db.query")
    [tool] = named(finished, "execute_tool work")
    assert mine.parent is not None
    assert mine.parent.span_id == tool.context.span_id


async def test_get_traces_for_a_three_agent_run(spans: Any, capsys: Any) -> None:
    provider, _ = spans
    network = create_network(team(), tracer_provider=provider)
    await network.run("Plan a trip", thread_id="t-three")
    traces = network.get_traces()
    assert [(t.agent, t.parent, t.status) for t in traces] == [
        ("Planner", "invoke_workflow network", "ok"),
        ("Scout", "execute_tool ask_scout", "ok"),
        ("Writer", "invoke_workflow network", "ok"),
    ]
    assert all(t.duration > 0 and t.start > 0 and t.thread_id == "t-three" for t in traces)
    assert [t.tokens for t in traces] == [t.tokens for t in traces if t.tokens > 0]
    for trace in network.get_traces():
        print(f"{trace.agent} -> {trace.duration}ms")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" -> ")[0] for line in lines] == ["Planner", "Scout", "Writer"]
    assert network.get_traces("other-thread") == []
    everything = network.get_traces(operation=None)
    assert {t.operation for t in everything} == {
        "invoke_workflow",
        "invoke_agent",
        "chat",
        "execute_tool",
    }
    other = create_network(team(), tracer_provider=provider, name="other")
    assert other.get_traces() == []


async def test_without_a_provider_get_traces_still_works_and_tracing_false_is_off() -> None:
    network = create_network([Agent("A", "a", model=ScriptedModel(["x"]))])
    await network.run("hi")
    assert [t.agent for t in network.get_traces()] == ["A"]
    off = create_network([Agent("A", "a", model=ScriptedModel(["x"]))], tracing=False)
    await off.run("hi")
    assert off.get_traces() == []


class Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Receiver.bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_otlp_http_export_to_a_loopback_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.bodies = []
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        f"http://127.0.0.1:{server.server_address[1]}/v1/traces",
    )
    provider = configure_tracing(service_name="ga-test", set_global=False)
    try:
        network = create_network(team(), tracer_provider=provider, name="otlp")
        await network.run("Plan a trip", thread_id="t-otlp")
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()
        server.shutdown()
    found: dict[str, dict[str, Any]] = {}
    service = set()
    for body in Receiver.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for attr in resource.resource.attributes:
                if attr.key == "service.name":
                    service.add(attr.value.string_value)
            for scope in resource.scope_spans:
                for span in scope.spans:
                    found[span.name] = {
                        a.key: (a.value.string_value or a.value.int_value or a.value.bool_value)
                        for a in span.attributes
                    }
    assert service == {"ga-test"}
    assert {
        "invoke_workflow otlp",
        "invoke_agent Planner",
        "invoke_agent Scout",
        "invoke_agent Writer",
        "chat scripted",
        "execute_tool ask_scout",
        "execute_tool lookup",
    } <= set(found)
    assert found["invoke_workflow otlp"]["gen_ai.conversation.id"] == "t-otlp"
    assert found["execute_tool lookup"]["gen_ai.tool.name"] == "lookup"
    assert found["invoke_agent Scout"]["gen_ai.agent.name"] == "Scout"


async def test_parallel_branches_of_a_router_nest_under_the_run(spans: Any) -> None:
    provider, exporter = spans
    network = create_network(
        agents=[
            Agent("A", "a", model=ScriptedModel([ScriptedResponse(text="alpha", delay=0.05)])),
            Agent("B", "b", model=ScriptedModel(["beta"])),
        ],
        router=lambda ctx: ["A", "B"] if ctx.call_count == 0 else None,
        tracer_provider=provider,
    )
    await network.run("go")
    finished = exporter.get_finished_spans()
    [run] = named(finished, "invoke_workflow network")
    [a] = named(finished, "invoke_agent A")
    [b] = named(finished, "invoke_agent B")
    for turn, lane in ((a, "branch:A"), (b, "branch:B")):
        assert turn.parent is not None
        assert turn.parent.span_id == run.context.span_id
        assert (turn.attributes or {})["graph_agents.lane"] == lane
        [_chat] = [
            s
            for s in named(finished, "chat scripted")
            if s.parent is not None and s.parent.span_id == turn.context.span_id
        ]
        [route] = turn.events
        assert (route.attributes or {})["graph_agents.route.agent"] == turn.name.split()[-1]
    assert (a.start_time or 0) < (b.end_time or 0)  # concurrent
    [end] = [e for e in run.events if e.name == "graph_agents.route.decided"]
    assert (end.attributes or {})["graph_agents.route.agent"] == ""


GLOBAL = """
import asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from graph_agents import Agent, create_network
from graph_agents.testing import ScriptedModel

network = create_network([Agent("A", "a", model=ScriptedModel(["x"]))], name="g")
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)  # after the network is built: read at run time
asyncio.run(network.run("hi"))
print(sorted(s.name for s in exporter.get_finished_spans()))
print([t.agent for t in network.get_traces()])
"""


def test_the_global_provider_is_used_when_none_is_passed() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", GLOBAL], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "['chat scripted', 'invoke_agent A', 'invoke_workflow g']",
        "['A']",
    ]


def test_get_traces_refuses_an_unknown_operation_or_a_thread_that_is_not_text() -> None:
    network = create_network([Agent("A", "a", model=ScriptedModel(["Hi."]))])
    with pytest.raises(ConfigurationError) as error:
        network.get_traces(operation="invoke-agent")
    assert str(error.value) == (
        "get_traces(operation='invoke-agent'): use 'invoke_workflow', 'step', "
        "'invoke_agent', 'chat', 'execute_tool' or None (every span)."
    )
    for bad in (5, ""):
        with pytest.raises(ConfigurationError) as error:
            network.get_traces(bad)  # type: ignore[arg-type]
        assert str(error.value) == (
            f"get_traces: thread_id={bad!r} must be a non-empty str (the thread's id)."
        )
    assert network.get_traces(operation=None) == []
