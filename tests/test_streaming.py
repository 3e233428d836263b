"""Streaming: the exact event sequences, lanes (paths), delivery, backpressure and
`RunStream` (its result, cancellation), and the exported JSON Schema."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import jsonschema
import pytest
from langchain_openai import ChatOpenAI

from graph_agents import (
    Agent,
    ConfigurationError,
    Event,
    SharedState,
    Step,
    _emitter,
    create_network,
    create_workflow,
)
from graph_agents.events import EVENT_TYPES, event_json_schema
from graph_agents.testing import OpenAIStubServer, ScriptedModel, ScriptedResponse, ToolCall

from .test_delegation import record as record_item
from .test_delegation import worker_model
from .test_workflow import seed_steps, team


async def lookup(city: str, state: SharedState) -> str:
    """Look a city up.

    Args:
        city: The city.
    """
    await state.set("city", city)
    return f"{city} has 3 museums."


def handoff_network(**kwargs: Any) -> Any:
    triage = ScriptedModel(
        [
            ToolCall("lookup", {"city": "Oslo"}, id="t1"),
            ToolCall("transfer_to_guide", {"reason": "local"}, id="h1"),
        ]
    )
    guide = ScriptedModel(["Visit the Munch museum."])
    return create_network(
        agents=[
            Agent("Triage", "Triage.", model=triage, tools=[lookup]),
            Agent("Guide", "Guide.", model=guide),
        ],
        **kwargs,
    )


def lane_texts(events: list[Event]) -> dict[str, str]:
    """Each lane's ``message.delta`` tokens, concatenated."""
    lanes: dict[str, str] = {}
    for event in events:
        if event.type == "message.delta":
            lanes[event.lane] = lanes.get(event.lane, "") + str(event.data["delta"])
    return lanes


HANDOFF_SEQUENCE = [
    ("run.started", None),
    ("agent.started", "Triage"),
    ("message.completed", "Triage"),
    ("tool.started", "Triage"),
    ("tool.completed", "Triage"),
    ("state.updated", "Triage"),
    ("message.completed", "Triage"),
    ("tool.started", "Triage"),
    ("tool.completed", "Triage"),
    ("handoff", "Triage"),
    ("agent.completed", "Triage"),
    ("agent.started", "Guide"),
    ("message.delta", "Guide"),
    ("message.delta", "Guide"),
    ("message.delta", "Guide"),
    ("message.delta", "Guide"),
    ("message.completed", "Guide"),
    ("agent.completed", "Guide"),
    ("run.completed", None),
]


async def test_a_handoff_with_one_tool_call_emits_this_exact_sequence() -> None:
    events: list[Event] = []
    result = await handoff_network().run("Museums in Oslo?", stream_callback=events.append)
    assert [(e.type, e.agent) for e in events] == HANDOFF_SEQUENCE
    assert [e.seq for e in events] == list(range(len(events)))
    assert {e.lane for e in events} == {""}
    assert events[4].data["result"] == "Oslo has 3 museums."
    assert events[5].data == {"keys": ["city"], "values": {"city": "Oslo"}, "deleted": []}
    assert events[9].data == {"from": "Triage", "to": "Guide"}
    assert "".join(str(e.data["delta"]) for e in events if e.type == "message.delta") == (
        result.output
    )
    assert events[-1].result is result


async def test_the_seed_workflow_emits_step_events_around_its_agents() -> None:
    workflow = create_workflow("Research and Write", team(9), steps=seed_steps())
    events: list[Event] = []
    result = await workflow.run({"topic": "AI Safety"}, stream_callback=events.append)
    steps = [
        (e.type, e.data["step"], e.data["kind"])
        for e in events
        if e.type in ("step.started", "step.completed")
    ]
    # The two writer branches run concurrently: their own events may interleave.
    branch_a = [s for s in steps if s[1] == "s2_parallel_1_writer"]
    branch_b = [s for s in steps if s[1] == "s2_parallel_2_writer"]
    others = [s for s in steps if s not in branch_a and s not in branch_b]
    assert branch_a == [
        ("step.started", "s2_parallel_1_writer", "agent"),
        ("step.completed", "s2_parallel_1_writer", "agent"),
    ]
    assert branch_b == [
        ("step.started", "s2_parallel_2_writer", "agent"),
        ("step.completed", "s2_parallel_2_writer", "agent"),
    ]
    assert others == [
        ("step.started", "s1_researcher", "agent"),
        ("step.completed", "s1_researcher", "agent"),
        ("step.started", "s2_parallel", "parallel"),
        ("step.completed", "s2_parallel", "parallel"),
        ("step.started", "s3_reviewer", "agent"),
        ("step.completed", "s3_reviewer", "agent"),
        ("step.started", "s4_conditional", "conditional"),
        ("step.started", "s4_conditional_else_transform", "transform"),
        ("step.completed", "s4_conditional_else_transform", "transform"),
        ("step.completed", "s4_conditional", "conditional"),
    ]
    by_step = {(e.type, e.step): e for e in events if e.type.startswith("step.")}
    assert by_step[("step.completed", "s4_conditional")].data["branch"] == "else"
    assert by_step[("step.completed", "s3_reviewer")].data["output"] == {
        "review_score": 9,
        "feedback": "needs depth",
    }
    assert by_step[("step.completed", "s2_parallel")].data["output"] == [
        "writer: Write introduction",
        "writer: Write main content",
    ]
    # Every agent event is in its step's lane, the step's id beside it.
    for event in events:
        if event.agent is not None:
            assert event.path == [f"step:{event.step}"]
    assert events[0].type == "run.started"
    assert events[-1].type == "run.completed"
    assert events[-1].data["output"] == {
        "status": "approved",
        "content": result.outputs["s3_reviewer"].model_dump(),
    }


async def test_the_then_branch_of_a_conditional_is_reported() -> None:
    workflow = create_workflow("Research and Write", team(6), steps=seed_steps())
    events: list[Event] = []
    await workflow.run({"topic": "AI Safety"}, stream_callback=events.append)
    done = next(e for e in events if e.type == "step.completed" and e.step == "s4_conditional")
    assert done.data == {"step": "s4_conditional", "kind": "conditional", "branch": "then"}


async def test_a_loop_reports_one_start_and_its_iterations() -> None:
    workflow = create_workflow(
        "loop",
        team(6),
        steps=[
            Step.loop(
                [Step.agent("writer", "Draft")],
                until=lambda state: False,
                max_iterations=3,
            )
        ],
    )
    events: list[Event] = []
    await workflow.run({}, stream_callback=events.append)
    loop_events = [e for e in events if e.data.get("kind") == "loop"]
    assert [(e.type, e.data.get("iterations")) for e in loop_events] == [
        ("step.started", None),
        ("step.completed", 3),
    ]


async def test_parallel_delegations_stream_in_their_own_lanes() -> None:
    boss = ScriptedModel(
        [
            ScriptedResponse(
                tool_calls=[
                    ToolCall("ask_slow", {"task": "paint the fence white"}, id="s"),
                    ToolCall("ask_fast", {"task": "mow the lawn now"}, id="f"),
                ]
            ),
            "Both done.",
        ]
    )
    network = create_network(
        agents=[
            Agent("Boss", "Delegate.", model=boss),
            Agent("Slow", "Work.", model=worker_model(0.01), tools=[record_item]),
            Agent("Fast", "Work.", model=worker_model(), tools=[record_item]),
        ]
    )
    events: list[Event] = []
    await network.run("Do chores", stream_callback=events.append)
    lanes = lane_texts(events)
    assert lanes == {
        "ask:s": "done: paint the fence white",
        "ask:f": "done: mow the lawn now",
        "": "Both done.",
    }
    slow = [e.type for e in events if e.path == ["ask:s"]]
    assert slow[0] == "agent.started"
    assert slow[-1] == "agent.completed"
    assert {e.agent for e in events if e.path == ["ask:f"]} == {"Fast"}
    finished = [e for e in events if e.type == "tool.completed" and e.path == []]
    assert {e.data["call_id"]: e.data["result"] for e in finished} == {
        "s": "done: paint the fence white",
        "f": "done: mow the lawn now",
    }
    assert all(float(e.data["duration_ms"]) > 0 for e in finished)  # type: ignore[arg-type]


async def test_parallel_branches_of_a_router_have_their_own_lanes() -> None:
    network = create_network(
        agents=[
            Agent("A", "a", model=ScriptedModel(["alpha beta"])),
            Agent("B", "b", model=ScriptedModel(["gamma delta"])),
        ],
        router=lambda ctx: ["A", "B"] if ctx.call_count == 0 else None,
    )
    events: list[Event] = []
    await network.run("go", stream_callback=events.append)
    lanes = lane_texts(events)
    assert lanes == {"branch:A": "alpha beta", "branch:B": "gamma delta"}


async def test_deltas_over_http_concatenate_to_the_final_message(stub: OpenAIStubServer) -> None:
    stub.add("The quick brown fox jumps over the lazy dog.")
    model = ChatOpenAI(
        model="gpt-4o-mini", base_url=stub.base_url, api_key="sk-test", streaming=True
    )
    network = create_network(agents=[Agent("A", "a", model=model)])
    events: list[Event] = []
    result = await network.run("Say it", stream_callback=events.append)
    deltas = [str(e.data["delta"]) for e in events if e.type == "message.delta"]
    assert len(deltas) > 3
    assert "".join(deltas) == result.output == "The quick brown fox jumps over the lazy dog."
    completed = next(e for e in events if e.type == "message.completed")
    assert completed.data["content"] == result.output


async def test_a_slow_callback_loses_nothing_and_does_not_hold_the_run_back() -> None:
    seen: list[Event] = []
    seen_when_tool_ran: list[int] = []

    async def lookup_city(city: str) -> str:
        """Look up.

        Args:
            city: The city.
        """
        seen_when_tool_ran.append(len(seen))
        return "found"

    async def slow(event: Event) -> None:
        await asyncio.sleep(0.05)
        seen.append(event)

    model = ScriptedModel([ToolCall("lookup_city", {"city": "Rome"}), "one two three four five"])
    network = create_network(agents=[Agent("A", "a", model=model, tools=[lookup_city])])
    result = await network.run("go", stream_callback=slow)
    assert [e.type for e in seen] == [
        "run.started",
        "agent.started",
        "message.completed",
        "tool.started",
        "tool.completed",
        *["message.delta"] * 5,
        "message.completed",
        "agent.completed",
        "run.completed",
    ]
    assert [e.seq for e in seen] == list(range(len(seen)))
    # The tool ran while the callback was still on the first events.
    assert seen_when_tool_ran[0] <= 1
    assert seen[-1].result is result


def test_a_sync_slow_callback_runs_off_the_event_loop() -> None:
    import time

    seen: list[str] = []

    def slow(event: Event) -> None:
        time.sleep(0.05)
        seen.append(event.type)

    network = create_network(agents=[Agent("A", "a", model=ScriptedModel(["hi there"]))])
    network.run_sync("go", stream_callback=slow)
    assert seen == [
        "run.started",
        "agent.started",
        "message.delta",
        "message.delta",
        "message.completed",
        "agent.completed",
        "run.completed",
    ]


async def test_backpressure_bounds_the_backlog_and_drops_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_emitter, "MAX_BACKLOG", 3)
    backlogs: list[int] = []
    created: list[_emitter.Backlog] = []
    original = _emitter.Backlog.__init__

    def spy(self: _emitter.Backlog, limit: int | None = None) -> None:
        original(self, limit)
        created.append(self)

    monkeypatch.setattr(_emitter.Backlog, "__init__", spy)

    async def slow(event: Event) -> None:
        backlogs.append(len(created[0]))
        await asyncio.sleep(0.002)

    words = " ".join(f"w{i}" for i in range(40))
    network = create_network(agents=[Agent("A", "a", model=ScriptedModel([words]))])
    result = await network.run("go", stream_callback=slow)
    assert result.output == words
    assert len(backlogs) == 40 + 5  # every delta and the 5 other events
    # A token waits for room: never more than the limit, plus the three events that
    # end the run (message.completed, agent.completed, run.completed).
    assert max(backlogs) <= 3 + 3
    assert sorted(backlogs)[len(backlogs) // 2] <= 3
    assert created[0].limit == 3


async def test_backlog_room_waits_for_the_consumer() -> None:
    backlog = _emitter.Backlog(limit=2)
    backlog.put(None)
    backlog.put(None)
    waiter = asyncio.ensure_future(backlog.room())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    assert await backlog.get() is None
    await asyncio.wait_for(waiter, 1)
    assert len(backlog) == 1


async def test_a_callback_that_raises_is_reported_once_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def flaky(event: Event) -> None:
        if event.type in ("agent.started", "message.delta"):
            raise ValueError("UI is down")
        seen.append(event.type)

    network = create_network(agents=[Agent("A", "a", model=ScriptedModel(["hi there"]))])
    with caplog.at_level(logging.ERROR, logger="graph_agents.events"):
        result = await network.run("go", stream_callback=flaky)
    assert result.output == "hi there"
    assert seen == ["run.started", "message.completed", "agent.completed", "run.completed"]
    reports = [r for r in caplog.records if r.name == "graph_agents.events"]
    assert len(reports) == 1
    assert "event 1 (agent.started)" in reports[0].getMessage()
    assert reports[0].exc_info is not None


async def test_stream_result_is_what_run_returns() -> None:
    async with handoff_network().stream("Museums in Oslo?") as stream:
        events = [event async for event in stream]
    assert [(e.type, e.agent) for e in events] == HANDOFF_SEQUENCE
    streamed = stream.result
    assert events[-1].result is streamed
    ran = await handoff_network().run("Museums in Oslo?")
    fields = ("output", "agent_path", "state", "stop_reason", "iterations", "usage")
    assert {f: getattr(streamed, f) for f in fields} == {f: getattr(ran, f) for f in fields}
    assert [m.content for m in streamed.messages] == [m.content for m in ran.messages]
    assert streamed.thread_id == events[0].thread_id


async def test_stream_result_before_the_end_says_what_to_do() -> None:
    async with handoff_network().stream("Museums in Oslo?") as stream:
        with pytest.raises(RuntimeError, match="iterate the stream to its end"):
            _ = stream.result
        async for _event in stream:
            pass
    assert stream.done


async def test_a_failed_run_raises_from_the_stream_and_from_result() -> None:
    def broken(state: Any, query: str) -> str:
        raise KeyError("router down")

    network = create_network(agents=[Agent("A", "a", model=ScriptedModel(["x"]))], router=broken)
    seen: list[str] = []

    async def read(stream: Any) -> None:
        async for event in stream:
            seen.append(event.type)

    async with network.stream("go") as stream:
        with pytest.raises(Exception, match="router down"):
            await read(stream)
    assert seen == ["run.started", "run.failed"]
    with pytest.raises(Exception, match="router down"):
        _ = stream.result


@pytest.mark.parametrize("form", ["context manager", "bare iterator"])
async def test_breaking_out_cancels_the_run_and_the_thread_resumes(
    state_store: object, form: str
) -> None:
    network = handoff_network(state_store=state_store)
    async with network:
        if form == "context manager":
            async with network.stream("Museums in Oslo?") as stream:
                async for event in stream:
                    if event.type == "handoff":
                        break
        else:
            iterator = network.stream("Museums in Oslo?")
            async for event in iterator:
                if event.type == "handoff":
                    break
            await asyncio.sleep(0.05)  # Python closes the abandoned iterator
        thread_id = event.thread_id
        state = await network.get_state(thread_id)
        assert state is not None
        assert state.stop_reason is None  # stopped midway, not finished
        result = await network.resume(thread_id)
    assert result.output == "Visit the Munch museum."
    assert result.agent_path == ["Triage", "Guide"]
    assert result.state == {"city": "Oslo"}


async def test_every_event_of_a_workflow_with_an_output_type_fits_the_schema() -> None:
    schema = event_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    workflow = create_workflow("Research and Write", team(6), steps=seed_steps())
    events: list[Event] = []
    await workflow.run({"topic": "AI Safety"}, stream_callback=events.append)
    network_events: list[Event] = []
    await handoff_network().run("Museums in Oslo?", stream_callback=network_events.append)
    from graph_agents.memory import MemoryManager, VectorMemoryStore
    from graph_agents.testing import HashEmbeddings

    memory = MemoryManager(VectorMemoryStore("schema_mem", embeddings=HashEmbeddings()))
    remembering = create_network(
        agents=[Agent("M", "m", model=ScriptedModel(["ok"]), memory=memory)]
    )
    await remembering.run("Remember this", stream_callback=network_events.append)
    types = set()
    for event in [*events, *network_events]:
        wire = json.loads(json.dumps(event.model_dump(mode="json")))
        validator.validate(wire)
        assert Event.model_validate(wire).model_dump() == event.model_dump()
        types.add(event.type)
    assert types == set(EVENT_TYPES) - {"route.decided", "approval.requested", "run.failed"}
    reviewed = next(e for e in events if e.type == "step.completed" and e.step == "s3_reviewer")
    assert reviewed.data["output"] == {"review_score": 6, "feedback": "needs depth"}


def test_the_schema_rejects_an_event_with_wrong_data() -> None:
    schema = event_json_schema()
    assert [branch["title"] for branch in schema["oneOf"]] == list(EVENT_TYPES)
    assert sorted(schema["oneOf"][0]["properties"]) == [
        "agent",
        "data",
        "path",
        "run_id",
        "seq",
        "step",
        "thread_id",
        "timestamp",
        "type",
    ]
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "type": "message.delta",
        "data": {"delta": "hi"},
        "run_id": "r",
        "thread_id": "t",
        "seq": 0,
    }
    validator.validate(good)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**good, "data": {"delta": 3}})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**good, "type": "message.sent"})


async def test_a_stream_callback_that_is_not_callable_is_refused_before_the_run() -> None:
    model = ScriptedModel(["Hi."])
    network = create_network([Agent("A", "a", model=model)])
    message = (
        "stream_callback=5 is not callable; pass a function (sync or async) that takes an "
        "Event, or None."
    )
    with pytest.raises(ConfigurationError) as error:
        await network.run("hello", thread_id="t", stream_callback=5)  # type: ignore[arg-type]
    assert str(error.value) == message
    workflow = create_workflow("flow", [Agent("A", "a", model=model)], [Step.agent("A", "Go")])
    with pytest.raises(ConfigurationError) as error:
        await workflow.run(stream_callback="print")  # type: ignore[arg-type]
    assert "stream_callback='print' is not callable" in str(error.value)
    assert model.calls == []
    assert (await network.run("hello", thread_id="t")).output == "Hi."  # the thread is free
