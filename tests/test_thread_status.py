"""Thread status is exact: every outcome's stop reason is persisted, and every message says
what happened."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from graph_agents import (
    Agent,
    ConcurrentRunError,
    ConfigurationError,
    RouteContext,
    SqliteStateStore,
    Step,
    create_network,
    create_workflow,
)
from graph_agents.routers import RuleBasedRouter
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


def thread() -> str:
    return f"t-{uuid.uuid4()}"


async def test_completed_runs_record_completed(state_store: object) -> None:
    plain = create_network(
        agents=[Agent("A", model=ScriptedModel(["one", "two"]))], state_store=state_store
    )  # type: ignore[arg-type]
    routed = create_network(
        agents=[Agent("A", model=ScriptedModel(["a"])), Agent("B", model=ScriptedModel(["b"]))],
        router=RuleBasedRouter().add_rule("b", "B"),
        state_store=state_store,  # type: ignore[arg-type]
    )

    def twice(context: RouteContext) -> str | None:
        return "A" if context.call_count < 2 else None

    per_turn = create_network(
        agents=[Agent("A", model=ScriptedModel(["x", "y"]))],
        router=twice,
        state_store=state_store,  # type: ignore[arg-type]
    )
    for network in (plain, routed, per_turn):
        t = thread()
        async with network:
            result = await network.run("b please", thread_id=t)
            state = await network.get_state(t)
            assert result.stop_reason == "completed"
            assert state is not None
            assert state.stop_reason == "completed"
            assert state.next == []
            with pytest.raises(ConfigurationError) as caught:
                await network.resume(t)
        assert str(caught.value) == (
            f"Thread {t!r} has nothing left to run: its last run already ended "
            f"(stop_reason='completed'). Start a new run on it with run(..., thread_id={t!r})."
        )
    assert per_turn.agents[0].name == "A"


async def test_stopped_runs_record_why(state_store: object) -> None:
    ping = Agent("Ping", model=ScriptedModel([ToolCall("transfer_to_pong", {})] * 3))
    pong = Agent("Pong", model=ScriptedModel([ToolCall("transfer_to_ping", {})] * 3))
    bounded = create_network(agents=[ping, pong], max_iterations=2, state_store=state_store)  # type: ignore[arg-type]

    async def spin() -> str:
        """Spin."""
        return "again"

    looping = create_network(
        agents=[
            Agent(
                "A",
                tools=[spin],
                max_tool_rounds=2,
                model=ScriptedModel([ToolCall("spin", {})] * 2),
            )
        ],
        state_store=state_store,  # type: ignore[arg-type]
    )
    for network, reason in ((bounded, "max_iterations"), (looping, "max_tool_rounds")):
        t = thread()
        async with network:
            result = await network.run("go", thread_id=t)
            state = await network.get_state(t)
        assert result.stop_reason == reason
        assert state is not None
        assert state.stop_reason == reason


async def test_a_failed_run_has_no_stop_reason_and_resumes(state_store: object) -> None:
    model = ScriptedModel([RuntimeError("down"), "recovered"])
    network = create_network(agents=[Agent("A", model=model)], state_store=state_store)  # type: ignore[arg-type]
    t = thread()
    async with network:
        with pytest.raises(Exception, match="down"):
            await network.run("go", thread_id=t)
        failed = await network.get_state(t)
        assert failed is not None
        assert (failed.stop_reason, failed.next) == (None, ["A"])
        result = await network.resume(t)
        done = await network.get_state(t)
    assert result.output == "recovered"
    assert done is not None
    assert done.stop_reason == "completed"


async def test_workflows_record_completed(state_store: object) -> None:
    workflow = create_workflow(
        "w",
        [Agent("A", model=ScriptedModel(["done"]))],
        [Step.agent("a", "Do it")],
        state_store=state_store,  # type: ignore[arg-type]
    )
    t = thread()
    async with workflow:
        await workflow.run(thread_id=t)
        state = await workflow.get_state(t)
        with pytest.raises(
            ConfigurationError, match=r"its last run already ended \(stop_reason='completed'\)"
        ):
            await workflow.resume(t)
    assert state is not None
    assert state.stop_reason == "completed"


async def test_two_network_objects_on_one_thread_in_one_process(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite")
    slow = ScriptedModel([ScriptedResponse(text="slow", delay=0.3)])
    first = create_network(agents=[Agent("A", model=slow)], state_store=store, name="first")
    second = create_network(
        agents=[Agent("A", model=ScriptedModel(["x"]))], state_store=store, name="second"
    )
    t = thread()
    async with first, second:
        running = asyncio.ensure_future(first.run("one", thread_id=t))
        await asyncio.sleep(0.1)
        with pytest.raises(ConcurrentRunError) as other:
            await second.run("two", thread_id=t)
        with pytest.raises(ConcurrentRunError) as same:
            await first.run("three", thread_id=t)
        assert (await running).output == "slow"
    assert str(other.value) == (
        f"Thread {t!r} already has a run in progress in this process, on network 'first' "
        "(another object using the same state store). Wait for it to finish, or use another "
        "thread_id."
    )
    assert str(same.value) == (
        f"Thread {t!r} already has a run in progress on network 'first'. Wait for it to "
        "finish, or use another thread_id."
    )


async def test_a_request_router_choosing_agents_in_parallel_records_completed() -> None:
    def both(state: object, query: str) -> list[str]:
        return ["A", "B"]

    network = create_network(
        agents=[Agent("A", model=ScriptedModel(["a"])), Agent("B", model=ScriptedModel(["b"]))],
        router=both,  # type: ignore[arg-type]
    )
    t = thread()
    result = await network.run("go", thread_id=t)
    state = await network.get_state(t)
    assert result.output == "A: a\n\nB: b"
    assert state is not None
    assert state.stop_reason == "completed"
