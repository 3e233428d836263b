"""ask_<agent> delegation: call-and-return, concurrency, shared state, depth and budget."""

from __future__ import annotations

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from graph_agents import Agent, Event, SharedState, create_network
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


def worker_model(delay: float = 0.0) -> ScriptedModel:
    """Records its task with a tool, then answers 'done: <task>'."""

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        task = next(str(m.content) for m in messages if isinstance(m, HumanMessage))
        if isinstance(messages[-1], HumanMessage):
            return ScriptedResponse(tool_calls=[ToolCall("record", {"item": task})], delay=delay)
        return ScriptedResponse(text=f"done: {task}", delay=delay)

    return ScriptedModel(responder=respond)


async def record(item: str, state: SharedState) -> str:
    """Record an item."""
    await state.append("items", item)
    return "ok"


async def test_ask_returns_the_answer_as_the_tool_result(state_store: object) -> None:
    boss = ScriptedModel([ToolCall("ask_worker", {"task": "count sheep"}, id="a1"), "All done."])
    network = create_network(
        agents=[
            Agent("Boss", "Delegate.", model=boss),
            Agent("Worker", "Work.", model=worker_model(), tools=[record]),
        ],
        state_store=state_store,  # type: ignore[arg-type]
    )
    events: list[Event] = []
    async with network:
        result = await network.run("Please count", stream_callback=events.append)
    assert result.output == "All done."
    assert result.agent_path == ["Boss", "Worker"]
    assert result.iterations == 2
    assert result.state == {"items": ["count sheep"]}
    tool_result = boss.calls[1].messages[-1]
    assert isinstance(tool_result, ToolMessage)
    assert (tool_result.name, tool_result.content) == ("ask_worker", "done: count sheep")
    assert [m.type for m in result.messages] == ["human", "ai", "tool", "ai"]
    worker_tools = [e.data["tool"] for e in events if e.type == "tool.started"]
    assert worker_tools == ["ask_worker", "record"]


async def test_parallel_asks_overlap_in_time(state_store: object) -> None:
    boss = ScriptedModel(
        [
            ScriptedResponse(
                tool_calls=[
                    ToolCall("ask_slow", {"task": "slow job"}, id="s"),
                    ToolCall("ask_fast", {"task": "fast job"}, id="f"),
                ]
            ),
            "Both answered.",
        ]
    )
    slow, fast = worker_model(delay=0.15), worker_model(delay=0.05)
    network = create_network(
        agents=[
            Agent("Boss", model=boss),
            Agent("Slow", model=slow, tools=[record]),
            Agent("Fast", model=fast, tools=[record]),
        ],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        result = await network.run("Do both")
    assert result.output == "Both answered."
    # Both delegates' first model calls started before either finished its work.
    assert slow.calls[0].started < fast.calls[-1].ended
    assert fast.calls[0].started < slow.calls[-1].ended
    assert fast.calls[-1].ended < slow.calls[-1].ended
    answers = [m for m in boss.calls[1].messages if isinstance(m, ToolMessage)]
    assert [(m.tool_call_id, m.content) for m in answers] == [
        ("s", "done: slow job"),
        ("f", "done: fast job"),
    ]
    assert result.state == {"items": ["slow job", "fast job"]}


async def test_twenty_parallel_appends_lose_nothing(state_store: object) -> None:
    boss = ScriptedModel(
        [
            ScriptedResponse(
                tool_calls=[
                    ToolCall("ask_worker", {"task": f"item-{i}"}, id=f"c{i}") for i in range(20)
                ]
            ),
            "Twenty recorded.",
        ]
    )
    network = create_network(
        agents=[Agent("Boss", model=boss), Agent("Worker", model=worker_model(), tools=[record])],
        state_store=state_store,  # type: ignore[arg-type]
        max_iterations=25,
    )
    async with network:
        result = await network.run("Record twenty")
    assert result.state == {"items": [f"item-{i}" for i in range(20)]}
    assert result.iterations == 21


async def test_delegation_counts_toward_max_iterations() -> None:
    def ask_forever(messages: list[BaseMessage]) -> ScriptedResponse:
        return ScriptedResponse(text="again", tool_calls=[ToolCall("ask_echo", {"task": "x"})])

    network = create_network(
        agents=[
            Agent("Boss", model=ScriptedModel(responder=ask_forever)),
            Agent("Echo", model=ScriptedModel(responder=lambda m: "echo")),
        ],
        max_iterations=4,
    )
    result = await network.run("Loop")
    assert result.stop_reason == "max_iterations"
    assert result.iterations == 4
    assert result.agent_path == ["Boss", "Echo", "Echo", "Echo"]


async def test_delegation_depth_is_bounded() -> None:
    def ask_other(target: str) -> ScriptedModel:
        def respond(messages: list[BaseMessage]) -> ScriptedResponse | str:
            last = messages[-1]
            if isinstance(last, ToolMessage):
                return f"gave up: {last.content}"
            return ScriptedResponse(tool_calls=[ToolCall(f"ask_{target}", {"task": "deeper"})])

        return ScriptedModel(responder=respond)

    network = create_network(
        agents=[Agent("A", model=ask_other("b")), Agent("B", model=ask_other("a"))],
        max_delegation_depth=2,
        max_iterations=10,
    )
    result = await network.run("Recurse")
    assert result.agent_path == ["A", "B", "A"]
    assert result.tool_errors[0]["error"] == (
        "Error: delegation is limited to 2 levels and this agent is already 2 levels deep; "
        "do the task yourself instead of 'ask_b'."
    )
    assert result.output == "gave up: gave up: gave up: " + result.tool_errors[0]["error"]


async def test_ask_without_a_task_is_an_error_to_the_model() -> None:
    boss = ScriptedModel([ToolCall("ask_worker", {"job": "x"}, id="bad"), "ok"])
    network = create_network(
        agents=[Agent("Boss", model=boss), Agent("Worker", model=worker_model(), tools=[record])]
    )
    result = await network.run("Go")
    assert boss.calls[1].messages[-1].content == (
        "Error: 'ask_worker' needs one argument, 'task', a string that states the task in "
        "full; got {'job': 'x'}."
    )
    assert result.agent_path == ["Boss"]


async def test_parallel_sets_of_one_key_resolve_in_call_order(state_store: object) -> None:
    async def claim(item: str, state: SharedState) -> str:
        """Claim the slot."""
        await state.set("winner", item)
        return "claimed"

    def claimer(delay: float) -> ScriptedModel:
        def respond(messages: list[BaseMessage]) -> ScriptedResponse:
            task = next(str(m.content) for m in messages if isinstance(m, HumanMessage))
            if isinstance(messages[-1], HumanMessage):
                return ScriptedResponse(tool_calls=[ToolCall("claim", {"item": task})])
            return ScriptedResponse(text="ok", delay=delay)

        return ScriptedModel(responder=respond)

    boss = ScriptedModel(
        [
            ScriptedResponse(
                tool_calls=[
                    ToolCall("ask_first", {"task": "first"}, id="1"),
                    ToolCall("ask_second", {"task": "second"}, id="2"),
                ]
            ),
            "settled",
        ]
    )
    # The second delegate finishes first; the rule is call order, not finishing order.
    network = create_network(
        agents=[
            Agent("Boss", model=boss),
            Agent("First", model=claimer(0.1), tools=[claim]),
            Agent("Second", model=claimer(0.0), tools=[claim]),
        ],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        result = await network.run("Claim")
    assert result.state == {"winner": "second"}


async def test_state_written_by_nested_delegations_reaches_the_run_once(
    state_store: object,
) -> None:
    def model(own: str, asks: str | None) -> ScriptedModel:
        """Records itself in state, asks the next agent (if any), then answers."""

        def respond(messages: list[BaseMessage]) -> ScriptedResponse:
            tools = [m for m in messages if isinstance(m, ToolMessage)]
            if not tools:
                return ScriptedResponse(tool_calls=[ToolCall("record", {"item": own})])
            if asks is not None and len(tools) == 1:
                return ScriptedResponse(tool_calls=[ToolCall(f"ask_{asks}", {"task": "go on"})])
            return ScriptedResponse(text=f"{own} done after {tools[-1].content}")

        return ScriptedModel(responder=respond)

    network = create_network(
        agents=[
            Agent("Top", tools=[record], model=model("top", "middle")),
            Agent("Middle", tools=[record], model=model("middle", "bottom")),
            Agent("Bottom", tools=[record], model=model("bottom", None)),
        ],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        result = await network.run("Start")
    assert result.state == {"items": ["top", "middle", "bottom"]}
    assert result.output == "top done after middle done after bottom done after ok"
    assert result.agent_path == ["Top", "Middle", "Bottom"]
    assert result.iterations == 3


async def test_a_handoff_after_parallel_delegations_that_used_up_the_budget_stops() -> None:
    boss = ScriptedModel(
        [
            ScriptedResponse(
                tool_calls=[
                    ToolCall("ask_worker", {"task": "one"}),
                    ToolCall("ask_helper", {"task": "two"}),
                ]
            ),
            ToolCall("transfer_to_closer", {}),
        ]
    )
    network = create_network(
        agents=[
            Agent("Boss", model=boss),
            Agent("Worker", model=ScriptedModel(["w"])),
            Agent("Helper", model=ScriptedModel(["h"])),
            Agent("Closer", model=ScriptedModel(["closed"])),
        ],
        max_iterations=2,
    )
    result = await network.run("Go")
    assert result.stop_reason == "max_iterations"
    assert result.iterations == 3
    assert "Closer" not in result.agent_path


async def test_a_delegate_that_ran_out_of_tool_rounds_does_not_stop_the_caller() -> None:
    async def spin() -> str:
        """Spin."""
        return "again"

    boss = ScriptedModel([ToolCall("ask_worker", {"task": "spin"}), "Finished anyway."])
    worker = Agent(
        "Worker",
        tools=[spin],
        max_tool_rounds=1,
        model=ScriptedModel([ScriptedResponse(text="spinning", tool_calls=[ToolCall("spin", {})])]),
    )
    result = await create_network(agents=[Agent("Boss", model=boss), worker]).run("Go")
    assert result.stop_reason == "completed"
    assert result.output == "Finished anyway."
    assert str(boss.calls[1].messages[-1].content) == "spinning"
