"""Workflows: steps, branches, parallelism, structured output, validation and resume."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from graph_agents import (
    Agent,
    ModelProviderError,
    SharedState,
    StateView,
    Step,
    WorkflowError,
    create_workflow,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall

from .conftest import postgres_dsn
from .workflow_worker import build

WORKER = str(Path(__file__).with_name("workflow_worker.py"))


class Review(BaseModel):
    review_score: int
    feedback: str


def echo(name: str, delay: float = 0.0) -> ScriptedModel:
    """Answers '<name>: <first line of the prompt>'."""

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        return ScriptedResponse(
            text=f"{name}: {str(messages[-1].content).splitlines()[0]}", delay=delay
        )

    return ScriptedModel(responder=respond)


def team(score: int, writer_delay: float = 0.0) -> list[Agent]:
    return [
        Agent("Researcher", "Research.", model=echo("researcher")),
        Agent("Writer", "Write.", model=echo("writer", writer_delay)),
        Agent(
            "Reviewer",
            "Review.",
            model=ScriptedModel(
                responder=lambda m: f'{{"review_score": {score}, "feedback": "needs depth"}}'
            ),
        ),
    ]


def seed_steps() -> list[Step]:
    return [
        Step.agent("researcher", "Research {topic}"),
        Step.parallel(
            [
                Step.agent("writer", "Write introduction", output_key="intro"),
                Step.agent("writer", "Write main content", output_key="main"),
            ]
        ),
        Step.agent("reviewer", "Review complete document", output_type=Review),
        Step.conditional(
            condition=lambda state: state.get("review_score") < 8,
            true_step=Step.agent("writer", "Revise based on feedback"),
            false_step=Step.transform(lambda x: {"status": "approved", "content": x}),
        ),
    ]


@pytest.mark.parametrize(
    ("score", "last"), [(6, "s4_conditional_then_writer"), (9, "s4_conditional_else_transform")]
)
async def test_both_branches_of_the_seed_workflow(score: int, last: str) -> None:
    workflow = create_workflow("Research and Write", team(score), steps=seed_steps())
    result = await workflow.run({"topic": "AI Safety"})
    assert result.path == [
        "s1_researcher",
        "s2_parallel_1_writer",
        "s2_parallel_2_writer",
        "s3_reviewer",
        last,
    ]
    assert result.outputs["s1_researcher"] == "researcher: Research AI Safety"
    assert result.outputs["intro"] == "writer: Write introduction"
    assert result.outputs["main"] == "writer: Write main content"
    assert result.outputs["s3_reviewer"] == Review(review_score=score, feedback="needs depth")
    assert result.state["review_score"] == score
    assert result.state["topic"] == "AI Safety"
    if score < 8:
        assert result.output == "writer: Revise based on feedback"
    else:
        assert result.output == {
            "status": "approved",
            "content": Review(review_score=9, feedback="needs depth"),
        }


async def test_parallel_branches_overlap_and_collect_in_declaration_order() -> None:
    agents = team(9, writer_delay=0.1)
    writer_model = agents[1].model
    assert isinstance(writer_model, ScriptedModel)
    workflow = create_workflow(
        "fan-out",
        agents,
        steps=[
            Step.parallel(
                [Step.agent("Writer", f"Part {i}", output_key=f"p{i}") for i in range(4)]
            ),
            Step.transform(lambda parts: " | ".join(parts)),
        ],
    )
    result = await workflow.run()
    calls = sorted(writer_model.calls, key=lambda c: c.started)
    assert len(calls) == 4
    # Every branch started before any finished: they ran concurrently.
    assert max(c.started for c in calls) < min(c.ended for c in calls)
    assert result.output == "writer: Part 0 | writer: Part 1 | writer: Part 2 | writer: Part 3"


async def test_transform_receives_the_previous_output() -> None:
    seen: list[object] = []

    async def shout(text: str) -> str:
        seen.append(text)
        return text.upper()

    workflow = create_workflow(
        "t",
        team(9),
        steps=[
            Step.agent("researcher", "Find {topic}", output_key="facts"),
            Step.transform(shout, output_key="loud"),
        ],
    )
    result = await workflow.run({"topic": "llamas"})
    assert seen == ["researcher: Find llamas"]
    assert result.output == "RESEARCHER: FIND LLAMAS"
    assert result.outputs == {"facts": "researcher: Find llamas", "loud": "RESEARCHER: FIND LLAMAS"}


async def test_loop_revises_until_approved() -> None:
    scores = iter([5, 7, 9])
    reviewer = Agent(
        "Reviewer",
        "Review.",
        model=ScriptedModel(
            responder=lambda m: f'{{"review_score": {next(scores)}, "feedback": "more"}}'
        ),
    )
    workflow = create_workflow(
        "revise",
        [*team(0)[:2], reviewer],
        steps=[
            Step.agent("writer", "Draft {topic}", output_key="draft"),
            Step.loop(
                [
                    Step.agent("reviewer", "Review {draft}", output_type=Review, name="review"),
                    Step.conditional(
                        lambda s: s.get("review_score", 0) < 8,
                        Step.agent(
                            "writer", "Revise: {feedback}", output_key="draft", name="revise"
                        ),
                    ),
                ],
                until=lambda s: s.get("review_score", 0) >= 8,
                max_iterations=5,
            ),
        ],
    )
    result = await workflow.run({"topic": "owls"})
    assert result.path == ["s1_writer", "review", "revise", "review", "revise", "review"]
    assert result.state["review_score"] == 9


def test_validation_errors_name_the_step_and_the_fix() -> None:
    agents = team(9)
    cases: list[tuple[list[Step], str, dict[str, object]]] = [
        (
            [Step.agent("Editor", "Edit")],
            "Step 's1_editor' names unknown agent 'Editor'; known agents: 'Researcher', 'Writer', "
            "'Reviewer'. Names match case-insensitively.",
            {},
        ),
        (
            [Step.parallel([])],
            "Step 's1_parallel': Step.parallel([]) has no branches; give it at least one.",
            {},
        ),
        (
            [Step.conditional("yes", Step.agent("writer", "x"))],  # type: ignore[arg-type]
            "Step 's1_conditional': condition 'yes' is not callable; pass a function of the "
            "state, e.g. lambda state: state.get('score', 0) < 8.",
            {},
        ),
        (
            [Step.agent("writer", "Write about {subject}")],
            "Step 's1_writer': template key 'subject' is not an input, a state key, or an "
            "earlier step's output_key. Add it to inputs=[...] or produce it in an earlier step.",
            {"inputs": ["topic"]},
        ),
        (
            [
                Step.parallel(
                    [
                        Step.agent("writer", "a", output_key="part"),
                        Step.agent("writer", "b", output_key="part"),
                    ]
                )
            ],
            "Step 's1_parallel': parallel branches share output_key(s) ['part']; give each "
            "branch its own output_key.",
            {},
        ),
    ]
    for steps, message, options in cases:
        with pytest.raises(WorkflowError) as info:
            create_workflow("bad", agents, steps=steps, **options)  # type: ignore[arg-type]
        assert str(info.value) == message


async def test_template_keys_from_earlier_outputs_and_inputs_validate() -> None:
    workflow = create_workflow(
        "ok",
        team(9),
        inputs=["topic"],
        steps=[
            Step.agent("researcher", "Research {topic}", output_key="notes"),
            Step.agent("reviewer", "Check {notes}", output_type=Review),
            Step.agent("writer", "Address {feedback} in {notes}"),
        ],
    )
    result = await workflow.run({"topic": "bees"})
    assert result.output == "writer: Address needs depth in researcher: Research bees"
    with pytest.raises(WorkflowError, match=r"needs the input\(s\) \['topic'\]"):
        await workflow.run({})


async def test_a_raising_condition_names_the_missing_key_and_keeps_completed_steps() -> None:
    agents = team(9)
    workflow = create_workflow(
        "cond",
        agents,
        steps=[
            Step.agent("researcher", "Research {topic}"),
            Step.conditional(
                lambda state: state.get("review_score") < 8, Step.agent("writer", "Revise")
            ),
        ],
    )
    thread = f"t-{uuid.uuid4()}"
    with pytest.raises(WorkflowError) as info:
        await workflow.run({"topic": "x"}, thread_id=thread)
    assert str(info.value) == (
        "Step 's2_conditional': condition raised TypeError: '<' not supported between "
        "instances of 'NoneType' and 'int'. State key(s) ['review_score'] were missing (read "
        "as None). Make an earlier step set them (e.g. an output_type with those fields), or "
        "give the condition a default: state.get(key, default)."
    )
    saved = await workflow.get_state(thread)
    assert saved is not None
    assert saved.agent_path == ["s1_researcher"]
    assert saved.next == ["s2_conditional_if"]


@pytest.fixture(params=["sqlite", "postgres"])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "workflow.sqlite")
    return "postgres", postgres_dsn()


async def test_resume_in_a_second_process_repeats_no_completed_step(
    durable: tuple[str, str],
) -> None:
    kind, where = durable
    thread = f"t-{uuid.uuid4()}"
    workflow, models = build(kind, where, reviewer_fails=True)
    async with workflow:
        with pytest.raises(ModelProviderError, match="Model 'review' is unreachable"):
            await workflow.run({"topic": "tides"}, thread_id=thread)
    assert {name: len(m.calls) for name, m in models.items()} == {
        "Researcher": 1,
        "Writer": 2,
        "Reviewer": 1,
        "Editor": 0,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, WORKER, kind, where, thread],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    resumed = json.loads(done.stdout.strip().splitlines()[-1])
    assert resumed["calls"] == {"Researcher": 0, "Writer": 0, "Reviewer": 1, "Editor": 1}
    assert resumed["path"] == [
        "s1_researcher",
        "s2_parallel_1_writer",
        "s2_parallel_2_writer",
        "s3_reviewer",
        "s4_editor",
    ]
    assert resumed["output"] == "final text"


def test_mermaid_snapshot() -> None:
    workflow = create_workflow("Research and Write", team(9), steps=seed_steps())
    assert (
        workflow.draw_mermaid()
        == (Path(__file__).parent / "snapshots" / "seed_workflow.mmd").read_text()
    )


async def test_conditions_see_a_read_only_state_view() -> None:
    seen: list[StateView] = []

    def condition(state: StateView) -> bool:
        seen.append(state)
        return state.get("topic") == "cats"

    workflow = create_workflow(
        "v", team(9), steps=[Step.conditional(condition, Step.agent("writer", "About {topic}"))]
    )
    result = await workflow.run({"topic": "cats"})
    assert result.path == ["s1_conditional_then_writer"]
    assert isinstance(seen[0], StateView)
    assert dict(seen[0]) == {"topic": "cats"}
    with pytest.raises(TypeError):
        seen[0]["topic"] = "dogs"  # type: ignore[index]


async def test_workflow_events_stream_like_a_network() -> None:
    workflow = create_workflow(
        "events",
        team(9),
        steps=[
            Step.agent("researcher", "Research {topic}"),
            Step.transform(str.upper),
        ],
    )
    events = [event async for event in workflow.stream({"topic": "moths"})]
    assert [(e.type, e.agent, e.step) for e in events] == [
        ("run.started", None, None),
        ("step.started", None, "s1_researcher"),
        ("agent.started", "Researcher", "s1_researcher"),
        ("message.delta", "Researcher", "s1_researcher"),
        ("message.delta", "Researcher", "s1_researcher"),
        ("message.delta", "Researcher", "s1_researcher"),
        ("message.completed", "Researcher", "s1_researcher"),
        ("agent.completed", "Researcher", "s1_researcher"),
        ("step.completed", None, "s1_researcher"),
        ("step.started", None, "s2_transform"),
        ("step.completed", None, "s2_transform"),
        ("run.completed", None, None),
    ]
    assert {tuple(e.path) for e in events if e.step == "s1_researcher"} == {("step:s1_researcher",)}
    assert events[1].data == {"step": "s1_researcher", "kind": "agent", "agent": "Researcher"}
    assert events[-2].data["kind"] == "transform"
    assert events[-2].data["output"] == events[-1].data["output"]
    assert events[0].data == {"workflow": "events", "resumed": False}
    assert events[-1].data["path"] == ["s1_researcher", "s2_transform"]
    assert [e.seq for e in events] == list(range(len(events)))


async def test_a_final_parallel_step_returns_parsed_objects_in_order() -> None:
    workflow = create_workflow(
        "judges",
        team(7),
        steps=[
            Step.parallel(
                [
                    Step.agent("reviewer", "Judge A", output_type=Review, output_key="a"),
                    Step.agent("reviewer", "Judge B", output_type=Review, output_key="b"),
                ]
            ),
        ],
    )
    result = await workflow.run()
    assert result.output == [Review(review_score=7, feedback="needs depth")] * 2
    assert result.outputs == {
        "a": Review(review_score=7, feedback="needs depth"),
        "b": Review(review_score=7, feedback="needs depth"),
    }


@pytest.mark.parametrize(("approve_after", "expected_runs"), [(None, 3), (2, 2), (1, 1)])
async def test_a_loop_runs_its_body_until_done_or_at_most_max_iterations(
    approve_after: int | None, expected_runs: int
) -> None:
    runs: list[int] = []

    def count(previous: object) -> int:
        runs.append(len(runs) + 1)
        return len(runs)

    workflow = create_workflow(
        "loop",
        team(0),
        [
            Step.loop(
                Step.transform(count, output_key="count"),
                until=lambda s: approve_after is not None and s.get("count") >= approve_after,
                max_iterations=3,
            )
        ],
    )
    result = await workflow.run()
    assert runs == list(range(1, expected_runs + 1))
    assert result.path == ["s1_loop_1_transform"] * expected_runs
    assert result.output == expected_runs


async def test_a_template_key_missing_at_run_time_names_the_step_and_the_key() -> None:
    workflow = create_workflow(
        "w",
        team(0),
        [
            Step.conditional(
                lambda s: s.get("topic") == "owls",
                Step.agent("writer", "Draft {topic}", output_key="draft"),
            ),
            Step.agent("writer", "Polish {draft}"),
        ],
    )
    assert workflow.required_inputs == {"topic"}
    with pytest.raises(WorkflowError) as missing_input:
        await workflow.run()
    assert str(missing_input.value) == (
        "Workflow 'w' needs the input(s) ['topic'] for its prompt templates; pass them: "
        "workflow.run({'topic': ...})."
    )
    with pytest.raises(WorkflowError) as missing_state:
        await workflow.run({"topic": "cats"})
    assert str(missing_state.value) == (
        "Step 's2_writer': the prompt template needs 'draft', which neither the inputs nor "
        "the state hold. Pass it to run() or set it in an earlier step."
    )


def test_workflow_agents_must_differ_beyond_case_and_loops_default_to_three() -> None:
    from graph_agents import ConfigurationError
    from graph_agents.steps import LoopStep

    with pytest.raises(ConfigurationError) as caught:
        create_workflow(
            "w", [*team(0), Agent("writer", "Also writes.")], [Step.agent("writer", "x")]
        )
    assert str(caught.value) == "Workflow 'w': agent names must be unique ignoring case."
    assert LoopStep(body=(Step.transform(str),), until=lambda s: True).max_iterations == 3
    assert Step.loop(Step.transform(str), until=lambda s: True).max_iterations == 3


async def test_a_long_loop_is_not_cut_short_by_the_recursion_limit() -> None:
    workflow = create_workflow(
        "long",
        team(0),
        [
            Step.loop(
                Step.transform(lambda n: (n or 0) + 1), until=lambda s: False, max_iterations=100
            )
        ],
    )
    result = await workflow.run()
    assert result.output == 100
    assert len(result.path) == 100


async def test_tools_of_a_workflow_agent_write_the_shared_state() -> None:
    async def score(value: int, state: SharedState) -> str:
        """Record a score."""
        await state.set("review_score", value)
        await state.append("notes", f"scored {value}")
        return "recorded"

    reviewer = Agent(
        "Reviewer", tools=[score], model=ScriptedModel([ToolCall("score", {"value": 6}), "Done."])
    )
    workflow = create_workflow(
        "w",
        [reviewer, *team(0)[:2]],
        [
            Step.agent("reviewer", "Review it"),
            Step.conditional(
                lambda s: s.get("review_score") < 8, Step.transform(lambda x: "revise")
            ),
        ],
    )
    result = await workflow.run()
    assert result.state["review_score"] == 6
    assert result.state["notes"] == ["scored 6"]
    assert result.output == "revise"
