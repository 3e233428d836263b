"""Approvals inside workflows: an agent step pauses the run; parallel branches resume by id."""

from __future__ import annotations

from graph_agents import Agent, Step, create_workflow, tool_from
from graph_agents.approval import Approval
from graph_agents.testing import ScriptedModel, ToolCall


def publisher(published: list[str]) -> object:
    async def publish(text: str) -> str:
        """Publish a text."""
        published.append(text)
        return f"published {text!r}"

    return tool_from(publish, requires_approval=True)


async def test_an_agent_step_asks_for_approval(state_store: object) -> None:
    published: list[str] = []
    writer = ScriptedModel(["A draft."])
    editor = ScriptedModel([ToolCall("publish", {"text": "A draft."}, id="p"), "Published."])
    workflow = create_workflow(
        "Publish",
        [
            Agent("Writer", model=writer),
            Agent("Editor", model=editor, tools=[publisher(published)]),  # type: ignore[list-item]
        ],
        steps=[
            Step.agent("writer", "Write about {topic}"),
            Step.agent("editor", "Publish it"),
            Step.transform(lambda text: text.upper()),
        ],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with workflow:
        paused = await workflow.run({"topic": "moths"})
        assert paused.stop_reason == "interrupted"
        [request] = paused.interrupts
        assert (request.agent, request.step, request.tool) == ("Editor", "s2_editor", "publish")
        assert paused.output == "A draft."
        assert paused.path == ["s1_writer"]
        assert published == []
        state = await workflow.get_state(paused.thread_id)
        assert state is not None
        assert state.stop_reason == "interrupted"

        done = await workflow.resume(paused.thread_id, approve=True, feedback="ship it")
    assert (done.stop_reason, done.output) == ("completed", "PUBLISHED.")
    assert done.path == ["s1_writer", "s2_editor", "s3_transform"]
    assert published == ["A draft."]
    assert editor.calls[-1].messages[-1].content == (
        "Their feedback: ship it.\npublished 'A draft.'"
    )
    assert (len(writer.calls), len(editor.calls)) == (1, 2)


async def test_parallel_branches_resume_one_at_a_time(state_store: object) -> None:
    published: list[str] = []
    left = ScriptedModel([ToolCall("publish", {"text": "left"}, id="l"), "Left done."])
    right = ScriptedModel([ToolCall("publish", {"text": "right"}, id="r"), "Right done."])
    tool = publisher(published)
    workflow = create_workflow(
        "Both",
        [
            Agent("Left", model=left, tools=[tool]),  # type: ignore[list-item]
            Agent("Right", model=right, tools=[tool]),  # type: ignore[list-item]
        ],
        steps=[Step.parallel([Step.agent("left", "Go left"), Step.agent("right", "Go right")])],
        state_store=state_store,  # type: ignore[arg-type]
    )
    async with workflow:
        paused = await workflow.run()
        by_agent = {r.agent: r for r in paused.interrupts}
        assert sorted(by_agent) == ["Left", "Right"]
        assert {r.step for r in paused.interrupts} == {"s1_parallel_1_left", "s1_parallel_2_right"}

        half = await workflow.resume(
            paused.thread_id, decisions={by_agent["Right"].id: Approval(approve=True)}
        )
        assert [r.id for r in half.interrupts] == [by_agent["Left"].id]
        assert published == ["right"]
        assert (len(left.calls), len(right.calls)) == (1, 2)

        done = await workflow.resume(paused.thread_id, decisions={by_agent["Left"].id: False})
    assert done.output == ["Left done.", "Right done."]
    assert published == ["right"]
    assert (len(left.calls), len(right.calls)) == (2, 2)
