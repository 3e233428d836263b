"""Workflows give back what they computed: one value from run() and stream(), prompts
without duplicated context, transforms fed the step's own kind of value, literal braces,
and failures that name the step and the agent."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from graph_agents import (
    Agent,
    ModelProviderError,
    SharedState,
    Step,
    WorkflowError,
    create_network,
    create_workflow,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


class Review(BaseModel):
    review_score: int
    feedback: str


def reviewer(score: int = 9) -> Agent:
    return Agent(
        "Reviewer",
        "Review.",
        model=ScriptedModel(responder=lambda m: f'{{"review_score": {score}, "feedback": "fine"}}'),
    )


async def final_events(workflow: Any, inputs: dict[str, Any] | None = None) -> Any:
    events = [event async for event in workflow.stream(inputs)]
    assert events[-1].type == "run.completed"
    return events[-1]


async def test_stream_and_run_give_the_same_pydantic_output() -> None:
    workflow = create_workflow(
        "w", [reviewer()], [Step.agent("reviewer", "Review it", output_type=Review)]
    )
    ran = await workflow.run()
    last = await final_events(workflow)
    assert ran.output == Review(review_score=9, feedback="fine")
    assert last.data["output"] == {"review_score": 9, "feedback": "fine"}
    assert type(last.result.output) is Review
    assert last.result.output == ran.output
    assert last.model_dump()["data"]["output"] == {"review_score": 9, "feedback": "fine"}
    assert "result" not in last.model_dump()


async def test_stream_and_run_give_the_same_dict_output() -> None:
    steps = [
        Step.agent("reviewer", "Review it", output_type=Review),
        Step.transform(lambda review: {"status": "approved", "score": review.review_score}),
    ]
    workflow = create_workflow("w", [reviewer()], steps)
    ran = await workflow.run()
    last = await final_events(workflow)
    assert ran.output == {"status": "approved", "score": 9}
    assert last.data["output"] == ran.output
    assert last.result.output == ran.output


async def test_transform_receives_the_parsed_object_after_an_output_type_step() -> None:
    seen: list[Any] = []

    def keep(value: Any) -> str:
        seen.append(value)
        return "kept"

    steps = [
        Step.agent("reviewer", "Review it", output_type=Review),
        Step.transform(keep),
        Step.parallel(
            [
                Step.agent("reviewer", "Again", output_type=Review, output_key="one"),
                Step.agent("reviewer", "And again", output_key="two"),
            ]
        ),
        Step.transform(keep),
    ]
    await create_workflow("w", [reviewer()], steps).run()
    raw = '{"review_score": 9, "feedback": "fine"}'
    assert seen == [
        Review(review_score=9, feedback="fine"),
        [Review(review_score=9, feedback="fine"), raw],
    ]
    assert type(seen[0]) is Review


async def test_a_template_quoting_the_previous_output_gets_no_second_copy() -> None:
    writer = ScriptedModel(["A draft.", "Polished.", "Shortened."])
    workflow = create_workflow(
        "w",
        [Agent("Writer", model=writer)],
        [
            Step.agent("writer", "Draft it", output_key="draft"),
            Step.agent("writer", "Polish this draft: {draft}"),
            Step.agent("writer", "Shorten it"),
        ],
    )
    await workflow.run()
    prompts = [str(call.messages[-1].content) for call in writer.calls]
    assert prompts == [
        "Draft it",
        "Polish this draft: A draft.",
        "Shorten it\n\nContext from the previous step:\nPolished.",
    ]


async def test_structured_context_is_passed_as_json() -> None:
    writer = ScriptedModel(["Revised."])
    workflow = create_workflow(
        "w",
        [reviewer(), Agent("Writer", model=writer)],
        [Step.agent("reviewer", "Review", output_type=Review), Step.agent("writer", "Revise")],
    )
    await workflow.run()
    assert str(writer.calls[0].messages[-1].content) == (
        'Revise\n\nContext from the previous step:\n{"review_score": 9, "feedback": "fine"}'
    )


async def test_literal_braces_are_doubled_and_a_bad_placeholder_says_so() -> None:
    with pytest.raises(WorkflowError) as caught:
        create_workflow("w", [reviewer()], [Step.agent("reviewer", 'Reply as {"title": ...}')])
    assert str(caught.value) == (
        "Step 's1_reviewer': prompt template 'Reply as {\"title\": ...}' has the placeholder "
        "{\"title\"}, which is not a name. Placeholders look like '{topic}'; for literal "
        "braces, double them: '{{' and '}}' (e.g. 'Reply as {{\"title\": ...}}')."
    )
    model = ScriptedModel(["ok"])
    workflow = create_workflow(
        "w",
        [Agent("A", model=model)],
        [Step.agent("a", 'About {topic}, reply as {{"title": ...}}')],
    )
    await workflow.run({"topic": "owls"})
    assert str(model.calls[0].messages[-1].content) == 'About owls, reply as {"title": ...}'


async def test_a_failing_step_names_the_step_and_the_agent() -> None:
    async def name_it(state: SharedState) -> str:
        """Set the title."""
        await state.set("title", "Owls")
        return "ok"

    async def add_tag(state: SharedState) -> str:
        """Add a tag."""
        await state.append("title", "birds")  # passes alone; conflicts with name_it's write
        return "ok"

    both = ScriptedResponse(tool_calls=[ToolCall("name_it", {}), ToolCall("add_tag", {})])
    writer = Agent("Writer", tools=[name_it, add_tag], model=ScriptedModel([both, "done"]))
    workflow = create_workflow("w", [writer], [Step.agent("writer", "Write")])
    with pytest.raises(WorkflowError) as caught:
        await workflow.run()
    assert str(caught.value) == (
        "Step 's1_writer' (agent 'Writer') failed: TypeError: Cannot append to state key "
        "'title': it holds a str, not a list. Use set() to replace it. Completed steps are "
        "checkpointed; fix the cause, then call workflow.resume(thread_id)."
    )
    assert isinstance(caught.value.__cause__, TypeError)


async def test_a_model_failure_names_the_agent_and_the_step() -> None:
    down = ModelProviderError("Model 'm' is unreachable.", model="m")
    workflow = create_workflow(
        "w", [Agent("Writer", model=ScriptedModel([down]))], [Step.agent("writer", "Write")]
    )
    with pytest.raises(ModelProviderError) as caught:
        await workflow.run()
    assert str(caught.value) == "Step 's1_writer', agent 'Writer': Model 'm' is unreachable."
    assert (caught.value.agent, caught.value.step, caught.value.model) == (
        "Writer",
        "s1_writer",
        "m",
    )
    assert caught.value.__cause__ is not None

    network = create_network(agents=[Agent("Writer", model=ScriptedModel([down]))])
    with pytest.raises(ModelProviderError) as in_network:
        await network.run("Write")
    assert str(in_network.value) == "Agent 'Writer': Model 'm' is unreachable."
