from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from graph_agents import (
    Agent,
    ConcurrentRunError,
    ConfigurationError,
    Event,
    ModelProviderError,
    SharedState,
    create_network,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


async def add(a: int, b: int, state: SharedState) -> int:
    """Add two integers."""
    await state.append("sums", a + b)
    return a + b


def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"exploded: {reason}")


def calculator(model: ScriptedModel, **kwargs: object) -> Agent:
    return Agent("Calc", "You add numbers.", tools=[add, explode], model=model, **kwargs)  # type: ignore[arg-type]


async def test_tool_loop_ends_when_the_model_answers() -> None:
    model = ScriptedModel([ToolCall("add", {"a": 2, "b": 3}, id="c1"), "2 + 3 = 5"])
    network = create_network(agents=[calculator(model)])
    result = await network.run("What is 2 + 3?")
    assert result.output == "2 + 3 = 5"
    assert result.agent_path == ["Calc"]
    assert result.iterations == 1
    assert result.stop_reason == "completed"
    assert result.state == {"sums": [5]}
    assert [m.type for m in result.messages] == ["human", "ai", "tool", "ai"]
    assert result.messages[2].content == "5"
    second_prompt = model.calls[1].messages
    assert [m.type for m in second_prompt] == ["system", "human", "ai", "tool"]
    assert [t["function"]["name"] for t in model.calls[0].tools] == ["add", "explode"]


async def test_a_raising_tool_goes_back_to_the_model_and_is_recorded() -> None:
    model = ScriptedModel([ToolCall("explode", {"reason": "test"}, id="c1"), "Sorry, it failed."])
    result = await create_network(agents=[calculator(model)]).run("Try it")
    error = (
        "Error: tool 'explode' raised RuntimeError: exploded: test. "
        "Fix the arguments or try another approach."
    )
    assert model.calls[1].messages[-1].content == error
    assert result.output == "Sorry, it failed."
    assert result.tool_errors == [
        {"agent": "Calc", "tool": "explode", "call_id": "c1", "error": error}
    ]


async def test_malformed_tool_call_json_goes_back_to_the_model() -> None:
    model = ScriptedModel([ToolCall("add", '{"a": 1, "b":', id="bad"), "Let me retry later."])
    result = await create_network(agents=[calculator(model)]).run("Add")
    tool_message = model.calls[1].messages[-1]
    assert tool_message.content.startswith(
        "Error: the arguments for tool 'add' are not valid JSON ("
    )
    assert tool_message.content.endswith(
        """: '{"a": 1, "b":'. Call the tool again with its arguments as one JSON object """
        "that matches its schema."
    )
    assert result.tool_errors[0]["tool"] == "add"
    assert result.tool_errors[0]["call_id"] == "bad"
    assert result.state == {}


async def test_unknown_tool_lists_the_available_ones() -> None:
    model = ScriptedModel([ToolCall("multiply", {"a": 1}, id="m"), "ok"])
    await create_network(agents=[calculator(model)]).run("Multiply")
    assert model.calls[1].messages[-1].content == (
        "Error: there is no tool named 'multiply'. Available tools: 'add', 'explode'."
    )


async def test_parallel_tool_calls_apply_writes_in_call_order() -> None:
    model = ScriptedModel(
        [
            ScriptedResponse(tool_calls=[ToolCall("add", {"a": i, "b": 0}) for i in range(5)]),
            "done",
        ]
    )
    result = await create_network(agents=[calculator(model)]).run("Add many")
    assert result.state == {"sums": [0, 1, 2, 3, 4]}


async def test_tool_rounds_are_bounded() -> None:
    model = ScriptedModel(
        [
            ScriptedResponse(text=f"step {i}", tool_calls=[ToolCall("add", {"a": i, "b": i})])
            for i in range(3)
        ]
    )
    result = await create_network(agents=[calculator(model, max_tool_rounds=3)]).run("Loop")
    assert result.stop_reason == "max_tool_rounds"
    assert result.output == "step 2"
    assert result.state == {"sums": [0, 2, 4]}
    assert len(model.calls) == 3


async def test_model_errors_fail_the_run_with_the_provider_error() -> None:
    failure = ModelProviderError("Model 'x' rejected the credentials", model="x")
    network = create_network(agents=[calculator(ScriptedModel([failure]))])
    events: list[Event] = []
    with pytest.raises(ModelProviderError, match="rejected the credentials"):
        await network.run("Hi", stream_callback=events.append)
    assert [e.type for e in events] == ["run.started", "agent.started", "run.failed"]
    assert events[-1].data["error_type"] == "ModelProviderError"


class Verdict(BaseModel):
    score: int
    summary: str


async def test_output_type_is_parsed_with_one_corrective_retry() -> None:
    model = ScriptedModel(['{"score": "high"}', '```json\n{"score": 8, "summary": "good"}\n```'])
    agent = Agent("Judge", "Judge the text.", model=model, output_type=Verdict)
    result = await create_network(agents=[agent]).run("Judge this")
    assert result.parsed == Verdict(score=8, summary="good")
    assert "JSON schema" in str(model.calls[0].messages[0].content)
    assert str(model.calls[1].messages[-1].content).startswith(
        "Your answer does not match the required JSON schema"
    )


async def test_output_type_failing_twice_raises() -> None:
    model = ScriptedModel(["not json", "still not json"])
    agent = Agent("Judge", "Judge.", model=model, output_type=Verdict)
    with pytest.raises(
        ModelProviderError,
        match=r"Agent 'Judge': Model 'scripted' answered "
        r"twice with output that does not match Verdict",
    ):
        await create_network(agents=[agent]).run("Judge this")


async def test_events_arrive_in_order_even_with_a_slow_callback() -> None:
    model = ScriptedModel([ToolCall("add", {"a": 1, "b": 1}, id="c1"), "Two now"])
    seen: list[Event] = []

    async def slow(event: Event) -> None:
        await asyncio.sleep(0.005)
        seen.append(event)

    result = await create_network(agents=[calculator(model)]).run("1+1", stream_callback=slow)
    assert [(e.type, e.agent) for e in seen] == [
        ("run.started", None),
        ("agent.started", "Calc"),
        ("message.completed", "Calc"),
        ("tool.started", "Calc"),
        ("tool.completed", "Calc"),
        ("state.updated", "Calc"),
        ("message.delta", "Calc"),
        ("message.delta", "Calc"),
        ("message.completed", "Calc"),
        ("agent.completed", "Calc"),
        ("run.completed", None),
    ]
    assert [e.seq for e in seen] == list(range(len(seen)))
    assert {e.run_id for e in seen} == {result.run_id}
    assert {e.thread_id for e in seen} == {result.thread_id}
    duration = seen[4].data.pop("duration_ms")
    assert isinstance(duration, float)
    assert duration >= 0
    assert seen[4].data == {"tool": "add", "call_id": "c1", "result": "2", "error": False}
    assert seen[5].data == {"keys": ["sums"], "values": {"sums": [2]}, "deleted": []}


async def test_stream_yields_the_same_events() -> None:
    model = ScriptedModel(["Hello there"])
    network = create_network(agents=[Agent("A", model=model)])
    events = [event async for event in network.stream("Hi")]
    assert [e.type for e in events] == [
        "run.started",
        "agent.started",
        "message.delta",
        "message.delta",
        "message.completed",
        "agent.completed",
        "run.completed",
    ]
    assert events[-1].data["output"] == "Hello there"


async def test_threads_continue_and_seeds_do_not_clobber(state_store: object) -> None:
    model = ScriptedModel([ToolCall("add", {"a": 1, "b": 2}), "3", "Still 3"])
    network = create_network(agents=[calculator(model)], state_store=state_store)  # type: ignore[arg-type]
    network.state.set("sums", [])
    network.state.set("mode", "math")
    async with network:
        first = await network.run("1+2", thread_id=f"t-{id(network)}")
        second = await network.run("And now?", thread_id=first.thread_id)
    assert first.state == {"sums": [3], "mode": "math"}
    assert second.state == {"sums": [3], "mode": "math"}
    assert second.agent_path == ["Calc"]
    assert [m.type for m in second.messages] == ["human", "ai", "tool", "ai", "human", "ai"]
    assert [m.type for m in model.calls[2].messages] == [
        "system",
        "human",
        "ai",
        "tool",
        "ai",
        "human",
    ]


async def test_two_runs_on_one_thread_conflict() -> None:
    model = ScriptedModel([ScriptedResponse(text="slow", delay=0.2), "fast"])
    network = create_network(agents=[Agent("A", model=model)])
    first = asyncio.create_task(network.run("one", thread_id="shared"))
    await asyncio.sleep(0.05)
    with pytest.raises(
        ConcurrentRunError,
        match=r"Thread 'shared' already has a run in "
        r"progress on network 'network'\. Wait for it",
    ):
        await network.run("two", thread_id="shared")
    assert (await first).output == "slow"


async def test_run_sync_refuses_a_running_loop() -> None:
    network = create_network(agents=[Agent("A", model=ScriptedModel(["x"]))])
    with pytest.raises(RuntimeError, match=r"inside a running event loop; use `await network"):
        network.run_sync("hi")


def test_run_sync_outside_a_loop() -> None:
    network = create_network(agents=[Agent("A", model=ScriptedModel(["sync answer"]))])
    assert network.run_sync("hi").output == "sync answer"


def test_definition_errors() -> None:
    model = ScriptedModel()
    with pytest.raises(ConfigurationError, match=r"create_network\(agents=\[\]\) has no agents"):
        create_network(agents=[])
    with pytest.raises(ConfigurationError, match=r"Two agents are named 'A'"):
        create_network(agents=[Agent("A", model=model), Agent("A", model=model)])
    with pytest.raises(ConfigurationError, match=r"max_iterations=0 must be at least 1"):
        create_network(agents=[Agent("A", model=model)], max_iterations=0)
    with pytest.raises(ConfigurationError, match=r"Agent 'A': model 3.5 is neither"):
        create_network(agents=[Agent("A", model=3.5)])  # type: ignore[arg-type]


async def test_handoffs_move_control_between_agents() -> None:
    first = ScriptedModel([ToolCall("transfer_to_writer", {"reason": "done"})])
    second = ScriptedModel(["Written."])
    network = create_network(
        agents=[
            Agent("Researcher", "Research.", model=first),
            Agent("Writer", "Write.", model=second, description="Writes prose"),
        ]
    )
    result = await network.run("Write about llamas")
    assert result.agent_path == ["Researcher", "Writer"]
    assert result.iterations == 2
    assert result.output == "Written."
    handoff_tool = first.calls[0].tools[0]["function"]
    assert handoff_tool["name"] == "transfer_to_writer"
    assert handoff_tool["description"] == "Hand the conversation over to Writer: Writes prose"
    assert [m.type for m in second.calls[0].messages] == ["system", "human", "ai", "tool"]
    assert second.calls[0].messages[0].content == "Write."


async def test_ping_pong_handoffs_stop_at_max_iterations(state_store: object) -> None:
    ping = ScriptedModel(
        responder=lambda m: ScriptedResponse(text="ping", tool_calls=[ToolCall("transfer_to_pong")])
    )
    pong = ScriptedModel(
        responder=lambda m: ScriptedResponse(text="pong", tool_calls=[ToolCall("transfer_to_ping")])
    )
    network = create_network(
        agents=[Agent("Ping", model=ping), Agent("Pong", model=pong)],
        max_iterations=4,
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        result = await network.run("Go")
    assert result.stop_reason == "max_iterations"
    assert result.agent_path == ["Ping", "Pong", "Ping", "Pong"]
    assert result.iterations == 4
    assert result.output == "pong"


def test_agents_whose_handoff_tools_collide_are_rejected() -> None:
    model = ScriptedModel()
    with pytest.raises(
        ConfigurationError,
        match=r"Agents 'Data Writer' and 'data_writer' share the handoff tool name "
        r"'transfer_to_data_writer'; rename one of them\.",
    ):
        create_network(
            agents=[Agent("Data Writer", model=model), Agent("data_writer", model=model)]
        )


async def test_tool_argument_errors_go_back_to_the_model_and_the_run_goes_on() -> None:
    async def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    model = ScriptedModel(
        [
            ToolCall("add", {"a": "one", "b": 2}, id="bad-type"),
            ToolCall("add", {"a": 1}, id="missing"),
            ToolCall("add", {"a": 1, "b": 2, "c": 3}, id="extra"),
            ToolCall("add", '{"a": 1, "b": ', id="broken"),
            ToolCall("add", {"a": 1, "b": 2}, id="good"),
            "1 + 2 = 3",
        ]
    )
    network = create_network(agents=[Agent("Calc", tools=[add], model=model)])
    result = await network.run("Add 1 and 2")
    replies = [str(call.messages[-1].content) for call in model.calls[1:]]
    assert replies == [
        "Error: Invalid arguments for tool 'add': a: Input should be a valid integer, unable "
        "to parse string as an integer. Call it again with valid arguments.",
        "Error: Invalid arguments for tool 'add': b: Field required. Call it again with valid "
        "arguments.",
        "Error: Invalid arguments for tool 'add': c: Extra inputs are not permitted. Call it "
        "again with valid arguments.",
        "Error: the arguments for tool 'add' are not valid JSON (Expecting value: line 1 "
        'column 15 (char 14)): \'{"a": 1, "b": \'. Call the tool again with its arguments '
        "as one JSON object that matches its schema.",
        "3",
    ]
    assert [e["call_id"] for e in result.tool_errors] == ["bad-type", "missing", "extra", "broken"]
    assert {e["tool"] for e in result.tool_errors} == {"add"}
    assert result.output == "1 + 2 = 3"
    assert result.stop_reason == "completed"


async def test_a_tool_may_name_its_shared_state_parameter_anything() -> None:
    async def remember(fact: str, notebook: SharedState) -> str:
        """Remember a fact."""
        await notebook.append("facts", fact)
        return f"{len(await notebook.get('facts'))} facts"

    model = ScriptedModel([ToolCall("remember", {"fact": "owls hoot"}), "Noted."])
    network = create_network(agents=[Agent("A", tools=[remember], model=model)])
    result = await network.run("Remember")
    assert result.state == {"facts": ["owls hoot"]}
    assert str(model.calls[1].messages[-1].content) == "1 facts"
    schema = network.agents[0].tool_list[0].parameters
    assert schema["properties"] == {"fact": {"type": "string"}}


async def test_usage_sums_the_answer_and_its_corrective_retry() -> None:
    model = ScriptedModel(
        [
            ScriptedResponse(text='{"score": "high"}', usage=(10, 5)),
            ScriptedResponse(text='{"score": 8, "summary": "good"}', usage=(7, 3)),
        ]
    )
    agent = Agent("Judge", "Judge the text.", model=model, output_type=Verdict)
    result = await create_network(agents=[agent]).run("Judge this")
    assert result.usage == {"input_tokens": 17, "output_tokens": 8, "total_tokens": 25}


async def test_a_run_stopped_mid_handoff_answers_with_the_last_text_so_far() -> None:
    async def note() -> str:
        """Take a note."""
        return "noted"

    first = ScriptedModel(
        [
            ScriptedResponse(text="Draft: owls hoot.", tool_calls=[ToolCall("note", {})]),
            ToolCall("transfer_to_b", {}),
        ]
    )
    network = create_network(
        agents=[Agent("A", tools=[note], model=first), Agent("B", model=ScriptedModel(["b"]))],
        max_iterations=1,
    )
    result = await network.run("go")
    assert result.stop_reason == "max_iterations"
    assert result.agent_path == ["A"]
    assert result.output == "Draft: owls hoot."


async def test_a_corrective_retry_keeps_the_whole_exchange_in_the_thread() -> None:
    model = ScriptedModel(['{"score": "high"}', '{"score": 8, "summary": "good"}'])
    agent = Agent("Judge", "Judge the text.", model=model, output_type=Verdict)
    result = await create_network(agents=[agent]).run("Judge this")
    assert [(m.type, str(m.content)[:26]) for m in result.messages] == [
        ("human", "Judge this"),
        ("ai", '{"score": "high"}'),
        ("human", "Your answer does not match"),
        ("ai", '{"score": 8, "summary": "g'),
    ]
    assert result.output == '{"score": 8, "summary": "good"}'
