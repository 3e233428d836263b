"""create_composite_tool: chaining, stage events, stage failures and signature checks."""

from __future__ import annotations

from typing import TypedDict

import pytest
from langchain_core.messages import ToolMessage
from pydantic import BaseModel

from graph_agents import Agent, ConfigurationError, Event, SharedState, create_network
from graph_agents.testing import ScriptedModel, ToolCall
from graph_agents.tools import create_composite_tool, human_approval_tool, tool_from


async def search_web(query: str, state: SharedState) -> str:
    """Search the web.

    Args:
        query: What to look for.
    """
    await state.append("searched", query)
    return f"Facts about {query}: it is old. It is big. It is blue."


class KeyPoints(BaseModel):
    points: list[str]
    topic: str


def extract_key_points(text: str) -> KeyPoints:
    """Pull out the key points."""
    topic = text.split(":")[0].removeprefix("Facts about ")
    return KeyPoints(
        points=[p.strip() for p in text.split(":")[1].split(".") if p.strip()], topic=topic
    )


def generate_summary(points: list[str], topic: str) -> str:
    """Summarize points."""
    return f"{topic}: " + "; ".join(points)


research_and_summarize = create_composite_tool(
    name="research_and_summarize",
    tools=[search_web, extract_key_points, generate_summary],
    description="Research a topic and provide a summary",
)


def test_its_schema_is_the_first_tools() -> None:
    assert research_and_summarize.name == "research_and_summarize"
    assert research_and_summarize.description == "Research a topic and provide a summary"
    assert research_and_summarize.parameters == tool_from(search_web).parameters


async def test_outputs_feed_the_next_stage_in_a_run() -> None:
    model = ScriptedModel(
        [ToolCall("research_and_summarize", {"query": "the sea"}, id="c1"), "Done."]
    )
    network = create_network(agents=[Agent("A", "a", model=model, tools=[research_and_summarize])])
    events: list[Event] = []
    result = await network.run("Summarize the sea", stream_callback=events.append)
    reply = model.calls[1].messages[-1]
    assert isinstance(reply, ToolMessage)
    assert reply.content == "the sea: it is old; It is big; It is blue"
    assert result.state == {"searched": ["the sea"]}
    tools = [
        (e.type, e.data["tool"], e.data.get("stage"), e.data["call_id"])
        for e in events
        if e.type.startswith("tool.")
    ]
    assert tools == [
        ("tool.started", "research_and_summarize", None, "c1"),
        ("tool.started", "search_web", 0, "c1:0"),
        ("tool.completed", "search_web", 0, "c1:0"),
        ("tool.started", "extract_key_points", 1, "c1:1"),
        ("tool.completed", "extract_key_points", 1, "c1:1"),
        ("tool.started", "generate_summary", 2, "c1:2"),
        ("tool.completed", "generate_summary", 2, "c1:2"),
        ("tool.completed", "research_and_summarize", None, "c1"),
    ]
    stage_events = [e for e in events if e.data.get("stage") is not None]
    durations = [float(e.data["duration_ms"]) for e in stage_events if "duration_ms" in e.data]
    assert len(durations) == 3
    assert all(0 <= d < 500 for d in durations)  # milliseconds
    assert {e.data["composite"] for e in stage_events} == {"research_and_summarize"}
    assert {e.data["parent_call_id"] for e in stage_events} == {"c1"}
    assert stage_events[2].data["arguments"] == {
        "text": "Facts about the sea: it is old. It is big. It is blue."
    }
    assert stage_events[4].data["arguments"] == {
        "points": ["it is old", "It is big", "It is blue"],
        "topic": "the sea",
    }


async def test_a_single_parameter_takes_the_whole_output() -> None:
    def double(n: int) -> int:
        """Double."""
        return n * 2

    def describe(value: int, unit: str = "apples") -> str:
        """Describe."""
        return f"{value} {unit}"

    chain = create_composite_tool("double_then_describe", [double, describe])
    assert await chain.function(n=4) == "8 apples"


async def test_a_failing_stage_names_itself_to_the_model() -> None:
    def parse(text: str) -> dict[str, int]:
        """Parse."""
        return {"count": int(text)}

    def check(count: int) -> str:
        """Check."""
        if count > 10:
            raise ValueError(f"{count} is too many")
        return "fine"

    chain = create_composite_tool("parse_and_check", [parse, check])
    model = ScriptedModel([ToolCall("parse_and_check", {"text": "12"}, id="p"), "Sorry."])
    network = create_network(agents=[Agent("A", "a", model=model, tools=[chain])])
    events: list[Event] = []
    result = await network.run("check 12", stream_callback=events.append)
    reply = model.calls[1].messages[-1]
    assert isinstance(reply, ToolMessage)
    assert reply.status == "error"
    assert reply.content == (
        "Error: tool 'parse_and_check' raised ToolError: stage 1 ('check') of composite tool "
        "'parse_and_check' failed: ValueError: 12 is too many. Fix the arguments or try "
        "another approach."
    )
    assert [e["tool"] for e in result.tool_errors] == ["parse_and_check"]
    failed = [e for e in events if e.type == "tool.completed" and e.data["error"]]
    assert [(e.data["tool"], e.data.get("stage")) for e in failed] == [
        ("check", 1),
        ("parse_and_check", None),
    ]


async def test_an_output_that_fits_no_parameter_fails_at_run_time() -> None:
    def anything(text: str):  # type: ignore[no-untyped-def]  # unannotated on purpose
        """Anything."""
        return text

    def pair(a: str, b: str) -> str:
        """Pair."""
        return a + b

    chain = create_composite_tool("anything_pair", [anything, pair])
    with pytest.raises(
        Exception,
        match=r"stage 1 \('pair'\).*needs the parameters \['a', 'b'\], and stage 0 "
        r"\('anything'\) returned str 'x'",
    ):
        await chain.function(text="x")


class Point(TypedDict):
    x: int
    y: int


def test_incompatible_signatures_are_rejected_at_creation() -> None:
    def word(text: str) -> str:
        """Word."""
        return text

    def count(n: int) -> int:
        """Count."""
        return n

    def nothing() -> str:
        """Nothing."""
        return ""

    def two(a: str, b: str) -> str:
        """Two."""
        return a

    def point(text: str) -> Point:
        """Point."""
        return {"x": 1, "y": 2}

    def plot(x: int, z: int) -> str:
        """Plot."""
        return ""

    with pytest.raises(
        ConfigurationError, match=r"count\(n\) takes a JSON integer, and word returns a string"
    ):
        create_composite_tool("bad_types", [word, count])
    with pytest.raises(ConfigurationError, match="it has no parameters"):
        create_composite_tool("bad_arity", [word, nothing])
    with pytest.raises(
        ConfigurationError,
        match=r"stage 1 \('two'\) cannot take the output of stage 0 \('word'\): it needs the "
        r"parameters \['a', 'b'\], and stage 0 returns a single string",
    ):
        create_composite_tool("bad_single", [word, two])
    with pytest.raises(ConfigurationError, match=r"Point lacks \['z'\]"):
        create_composite_tool("bad_fields", [point, plot])
    with pytest.raises(ConfigurationError, match="two or more tools"):
        create_composite_tool("alone", [word])
    with pytest.raises(ConfigurationError, match="requires approval"):
        create_composite_tool("gated", [word, human_approval_tool])
    with pytest.raises(ConfigurationError, match="Tool name 'bad name'"):
        create_composite_tool("bad name", [word, word])
    create_composite_tool("int_to_float", [count, lambda_free_float])


def lambda_free_float(value: float) -> float:
    """Half."""
    return value / 2


def test_a_bad_composite_name_is_a_clear_error() -> None:
    def word(text: str) -> str:
        """Word."""
        return text

    with pytest.raises(ConfigurationError) as error:
        create_composite_tool("bad name!", [word, word])
    assert str(error.value) == (
        "Tool name 'bad name!' (from create_composite_tool) is invalid: use 1-64 letters, "
        "digits, '_' or '-'. Pass a valid name as create_composite_tool's first argument."
    )
    with pytest.raises(ConfigurationError, match=r"Tool name 5 \(from create_composite_tool\)"):
        create_composite_tool(5, [word, word])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"Tool name 7 \(from <function .*word"):
        tool_from(word, name=7)  # type: ignore[arg-type]
