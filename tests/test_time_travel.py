"""Time travel that acts: forks from an earlier checkpoint, and operators' state fixes."""

from __future__ import annotations

import uuid

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from graph_agents import (
    Agent,
    ConfigurationError,
    ModelProviderError,
    SharedState,
    create_network,
    tool_from,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


@pytest.fixture
def thread() -> str:
    return f"t-{uuid.uuid4()}"


def echo() -> ScriptedModel:
    def respond(messages: list[BaseMessage]) -> str:
        asked = [str(m.content) for m in messages if isinstance(m, HumanMessage)]
        return f"heard {' | '.join(asked)}"

    return ScriptedModel(responder=respond)


def contents(messages: list[BaseMessage]) -> list[str]:
    return [str(m.content) for m in messages]


async def test_a_fork_from_history_leaves_the_original_intact(
    state_store: object, thread: str
) -> None:
    model = echo()
    network = create_network(agents=[Agent("Echo", model=model)], state_store=state_store)  # type: ignore[arg-type]
    async with network:
        for query in ("one", "two", "three"):
            await network.run(query, thread_id=thread)
        before = await network.get_state_history(thread)
        after_one = next(s for s in before if len(s.messages) == 2 and not s.next)
        fork = await network.run("other", thread_id=thread, checkpoint_id=after_one.checkpoint_id)
        assert contents(fork.messages) == ["one", "heard one", "other", "heard one | other"]
        latest = await network.get_state(thread)
        history = await network.get_state_history(thread)
        kept = await network.get_state(thread, checkpoint_id=before[0].checkpoint_id)
        # The thread goes on from the fork.
        on = await network.run("four", thread_id=thread)
    assert latest is not None
    assert contents(latest.messages) == contents(fork.messages)
    assert {s.checkpoint_id for s in before} <= {s.checkpoint_id for s in history}
    assert kept is not None
    assert contents(kept.messages)[-1] == "heard one | two | three"
    assert contents(on.messages)[-1] == "heard one | other | four"
    first_of_fork = history[len(history) - len(before) - 1 - 1]
    assert first_of_fork.parent_checkpoint_id is not None
    assert len(model.calls) == 5


async def test_fork_errors_name_the_checkpoint(state_store: object, thread: str) -> None:
    network = create_network(agents=[Agent("Echo", model=echo())], state_store=state_store)  # type: ignore[arg-type]
    async with network:
        await network.run("one", thread_id=thread)
        with pytest.raises(ConfigurationError) as error:
            await network.run("x", thread_id=thread, checkpoint_id="1f0-nope")
        assert str(error.value) == (
            f"Thread {thread!r} has no checkpoint '1f0-nope' in this network's state store; "
            "pick one from get_state_history(thread_id)."
        )
        with pytest.raises(ConfigurationError, match="needs the thread_id it belongs to"):
            await network.run("x", checkpoint_id="abc")
        latest = await network.get_state(thread)
        assert latest is not None
        with pytest.raises(ConfigurationError, match="has nothing left to run"):
            await network.resume(thread, checkpoint_id=latest.checkpoint_id)


async def test_resume_from_a_checkpoint_reruns_from_there(state_store: object, thread: str) -> None:
    ran: list[str] = []

    async def look(item: str) -> str:
        """Look."""
        ran.append(item)
        return f"saw {item}"

    model = ScriptedModel(
        responder=lambda m: (
            ScriptedResponse(tool_calls=[ToolCall("look", {"item": "moth"})])
            if isinstance(m[-1], HumanMessage)
            else ScriptedResponse(text=f"done after {m[-1].content}")
        )
    )
    network = create_network(
        agents=[Agent("Looker", tools=[look], model=model)],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        await network.run("look", thread_id=thread)
        history = await network.get_state_history(thread)
        before_tools = next(s for s in history if s.next == ["Looker tools"])
        again = await network.resume(thread, checkpoint_id=before_tools.checkpoint_id)
    assert again.output == "done after saw moth"
    assert ran == ["moth", "moth"]
    assert len(model.calls) == 3


async def test_update_state_on_a_finished_thread(state_store: object, thread: str) -> None:
    seen: list[object] = []

    async def read(state: SharedState) -> str:
        """Read the plan."""
        seen.append(await state.get("plan"))
        return "read"

    model = ScriptedModel([ToolCall("read", {}), "first", ToolCall("read", {}), "second"])
    network = create_network(
        agents=[Agent("Reader", tools=[read], model=model)],
        state_store=state_store,  # type: ignore[arg-type]
    )
    network.state.set("plan", "draft")
    async with network:
        await network.run("go", thread_id=thread)
        before = await network.get_state_history(thread)
        fixed = await network.update_state(thread, {"plan": "final", "owner": "ops"})
        history = await network.get_state_history(thread)
        await network.run("again", thread_id=thread)
    assert fixed.state == {"plan": "final", "owner": "ops"}
    assert (fixed.next, fixed.stop_reason) == ([], "completed")
    assert len(history) == len(before) + 1
    assert history[0].checkpoint_id == fixed.checkpoint_id
    assert history[1].checkpoint_id == before[0].checkpoint_id
    assert history[1].state == {"plan": "draft"}
    assert seen == ["draft", "final"]


async def test_update_state_fixes_a_failed_run_which_then_resumes(
    state_store: object, thread: str
) -> None:
    plans: list[object] = []

    async def execute(state: SharedState) -> str:
        """Execute the plan."""
        plans.append(await state.get("plan"))
        return "executed"

    failing = {"on": True}

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        if isinstance(messages[-1], HumanMessage):
            return ScriptedResponse(tool_calls=[ToolCall("execute", {})])
        if failing["on"]:
            return ScriptedResponse(error=ModelProviderError("Model 'x' is unreachable."))
        return ScriptedResponse(text="all done")

    model = ScriptedModel(responder=respond)
    tool = tool_from(execute)
    network = create_network(
        agents=[Agent("Doer", tools=[tool], model=model)],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with network:
        with pytest.raises(ModelProviderError):
            await network.run("do it", thread_id=thread)
        stopped = await network.get_state(thread)
        assert stopped is not None
        fixed = await network.update_state(thread, {"plan": "B"})
        assert fixed.next == stopped.next == ["Doer"]
        failing["on"] = False
        result = await network.resume(thread)
    assert result.output == "all done"
    assert result.state == {"plan": "B"}
    assert plans == [None]
    assert len(model.calls) == 3


async def test_update_state_refusals() -> None:
    async def pay(amount: int) -> str:
        """Pay."""
        return "paid"

    model = ScriptedModel([ToolCall("pay", {"amount": 1}), "ok"])
    network = create_network(
        agents=[Agent("Payer", tools=[tool_from(pay, requires_approval=True)], model=model)]
    )
    paused = await network.run("pay")
    with pytest.raises(ConfigurationError) as error:
        await network.update_state(paused.thread_id, {"x": 1})
    assert str(error.value).startswith(
        f"Thread {paused.thread_id!r} waits for approval ('{paused.interrupts[0].id}'); "
        "answer it first"
    )
    with pytest.raises(ConfigurationError, match="has no checkpoint in this network"):
        await network.update_state("nope", {"x": 1})
    with pytest.raises(ConfigurationError, match="needs a non-empty dict"):
        await network.update_state(paused.thread_id, {})
    with pytest.raises(ConfigurationError, match="NUL character"):
        await network.update_state(paused.thread_id, {"x": "a\x00b"})


async def test_update_state_lets_a_failed_workflow_condition_go_on(
    state_store: object, thread: str
) -> None:
    from graph_agents import Step, WorkflowError, create_workflow

    writer = ScriptedModel(responder=lambda m: "a draft")
    workflow = create_workflow(
        "Review",
        [Agent("Writer", model=writer)],
        steps=[
            Step.agent("writer", "Write about {topic}"),
            Step.conditional(
                condition=lambda state: state["score"] < 8,
                true_step=Step.transform(lambda x: "revise"),
                false_step=Step.transform(lambda x: "publish"),
            ),
        ],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with workflow:
        with pytest.raises(WorkflowError, match=r"State key\(s\) \['score'\] were missing"):
            await workflow.run({"topic": "moths"}, thread_id=thread)
        fixed = await workflow.update_state(thread, {"score": 9})
        assert fixed.next == ["s2_conditional_if"]
        result = await workflow.resume(thread)
    assert result.output == "publish"
    assert result.state["score"] == 9
    assert len(writer.calls) == 1
