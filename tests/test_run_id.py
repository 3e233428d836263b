"""run(..., run_id=...): a retry of a finished run returns its recorded result, on every
store, for networks and workflows; a run that stopped midway is continued."""

from __future__ import annotations

import uuid

import pytest
from langchain_core.messages import BaseMessage

from graph_agents import Agent, ConfigurationError, Step, create_network, create_workflow
from graph_agents.testing import ScriptedModel


def echo() -> ScriptedModel:
    def respond(messages: list[BaseMessage]) -> str:
        return f"answer to {messages[-1].content}"

    return ScriptedModel(responder=respond)


async def test_a_retry_with_the_same_run_id_returns_the_recorded_result(
    state_store: object,
) -> None:
    model = echo()
    network = create_network(agents=[Agent("A", model=model)], state_store=state_store)  # type: ignore[arg-type]
    thread = f"t-{uuid.uuid4()}"
    events: list[str] = []
    async with network:
        first = await network.run("pay", thread_id=thread, run_id="req-1")
        again = await network.run(
            "pay",
            thread_id=thread,
            run_id="req-1",
            stream_callback=lambda e: events.append(f"{e.type}:{e.data.get('replayed', '')}"),
        )
        assert len(model.calls) == 1
        assert (again.output, again.run_id, again.agent_path) == (
            "answer to pay",
            "req-1",
            first.agent_path,
        )
        assert events[0] == "run.started:True"
        assert events[-1] == "run.completed:"
        other = await network.run("pay", thread_id=thread, run_id="req-2")
        assert (other.run_id, len(model.calls)) == ("req-2", 2)
        # The first run's record stays its own after later runs.
        replay = await network.run("pay", thread_id=thread, run_id="req-1")
        assert (replay.output, len(model.calls)) == ("answer to pay", 2)
        state = await network.get_state(thread)
    assert state is not None
    assert [m.content for m in state.messages] == [
        "pay",
        "answer to pay",
        "pay",
        "answer to pay",
    ]


async def test_a_run_id_continues_a_run_that_failed_midway(state_store: object) -> None:
    calls = {"n": 0}

    def flaky(messages: list[BaseMessage]) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model down")
        return "recovered"

    network = create_network(
        agents=[Agent("A", model=ScriptedModel(responder=flaky))],
        state_store=state_store,  # type: ignore[arg-type]
    )
    thread = f"t-{uuid.uuid4()}"
    async with network:
        with pytest.raises(Exception, match="model down"):
            await network.run("go", thread_id=thread, run_id="r")
        result = await network.run("go", thread_id=thread, run_id="r")
        state = await network.get_state(thread)
    assert (result.output, result.run_id, calls["n"]) == ("recovered", "r", 2)
    assert state is not None
    assert [m.content for m in state.messages] == ["go", "recovered"]


async def test_workflows_take_a_run_id_too() -> None:
    model = echo()
    workflow = create_workflow(
        "w", [Agent("Writer", model=model)], steps=[Step.agent("writer", "Write {topic}")]
    )
    first = await workflow.run({"topic": "moths"}, thread_id="t", run_id="job-1")
    again = await workflow.run({"topic": "moths"}, thread_id="t", run_id="job-1")
    assert (again.output, len(model.calls)) == (first.output, 1)


async def test_run_ids_are_checked() -> None:
    network = create_network(agents=[Agent("A", model=echo())])
    with pytest.raises(ConfigurationError, match=r"run\(run_id='r'\) needs thread_id"):
        await network.run("hi", run_id="r")
    with pytest.raises(ConfigurationError, match="run_id must be non-empty text"):
        await network.run("hi", thread_id="t", run_id=" ")
    with pytest.raises(ConfigurationError, match="not both"):
        await network.run("hi", thread_id="t", run_id="r", checkpoint_id="c")
    with pytest.raises(ConfigurationError, match="needs thread_id"):
        network.stream("hi", run_id="r")
