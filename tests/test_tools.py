from __future__ import annotations

import threading
from typing import Literal

import pytest
from langchain_core.tools import tool as lc_tool
from pydantic import BaseModel

from graph_agents import ConfigurationError, SharedState, tool_from
from graph_agents.tools import ToolArgumentsError, ToolCallError, render_tool_result


async def search_web(query: str, limit: int = 3, *, state: SharedState) -> list[str]:
    """Search the web for a query.

    Args:
        query: The text to search for.
        limit: How many results
            to return at most.
    """
    await state.append("history", query)
    return [f"{query} #{i}" for i in range(limit)]


def test_schema_comes_from_name_docstring_and_hints() -> None:
    tool = tool_from(search_web)
    assert tool.name == "search_web"
    assert tool.description == "Search the web for a query."
    assert tool.parameters == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "description": "The text to search for."},
            "limit": {
                "type": "integer",
                "default": 3,
                "description": "How many results to return at most.",
            },
        },
        "required": ["query"],
    }
    assert tool.openai_schema()["function"]["name"] == "search_web"


async def test_state_is_injected_and_hidden() -> None:
    tool = tool_from(search_web)
    state = SharedState({"history": ["earlier"]})
    result = await tool.invoke({"query": "llamas", "limit": 2}, state)
    assert result == ["llamas #0", "llamas #1"]
    assert await state.get("history") == ["earlier", "llamas"]
    assert state._take_ops() == [("append", "history", "llamas")]


def test_state_annotation_is_injected_under_any_name() -> None:
    async def note(text: str, store: SharedState) -> None:
        """Note."""
        await store.set("note", text)

    assert list(tool_from(note).parameters["properties"]) == ["text"]


async def test_sync_tools_run_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()

    def where(tag: Literal["a", "b"]) -> str:
        """Report the thread."""
        return f"{tag}:{threading.get_ident() != loop_thread}"

    assert await tool_from(where).invoke({"tag": "a"}, SharedState()) == "a:True"


async def test_invalid_arguments_name_the_tool_and_field() -> None:
    tool = tool_from(search_web)
    with pytest.raises(ToolArgumentsError) as info:
        await tool.invoke({"query": "x", "limit": "many", "bogus": 1}, SharedState())
    assert str(info.value) == (
        "Invalid arguments for tool 'search_web': limit: Input should be a valid integer, "
        "unable to parse string as an integer; bogus: Extra inputs are not permitted. "
        "Call it again with valid arguments."
    )


async def test_a_raising_tool_keeps_its_cause() -> None:
    def divide(a: int, b: int) -> float:
        """Divide."""
        return a / b

    with pytest.raises(ToolCallError) as info:
        await tool_from(divide).invoke({"a": 1, "b": 0}, SharedState())
    assert info.value.tool == "divide"
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_sync_tool_taking_state_is_rejected() -> None:
    def bad(state: SharedState) -> None:
        """Bad."""

    with pytest.raises(
        ConfigurationError,
        match=r"Tool 'bad' takes the shared state but is "
        r"synchronous.*async def bad",
    ):
        tool_from(bad)


def test_invalid_tool_name_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match=r"Tool name 'has space' .* is invalid"):
        tool_from(lambda: None, name="has space")


async def test_langchain_tools_pass_through() -> None:
    @lc_tool
    def shout(text: str) -> str:
        """Shout the text."""
        return text.upper()

    tool = tool_from(shout)
    assert tool.name == "shout"
    assert tool.description == "Shout the text."
    assert tool.parameters["properties"] == {"text": {"type": "string"}}
    assert await tool.invoke({"text": "hi"}, SharedState()) == "HI"
    with pytest.raises(ToolArgumentsError, match="Invalid arguments for tool 'shout'"):
        await tool.invoke({}, SharedState())


def test_results_render_as_text() -> None:
    class Point(BaseModel):
        x: int

    assert render_tool_result("plain") == "plain"
    assert render_tool_result(Point(x=1)) == '{"x":1}'
    assert render_tool_result({"a": [1, 2]}) == '{"a": [1, 2]}'


def test_results_json_cannot_hold_render_as_their_str() -> None:
    assert render_tool_result({(1, 2): "pair"}) == "{(1, 2): 'pair'}"
    assert render_tool_result({"at": object}) == '{"at": "<class \'object\'>"}'


def test_tools_compare_by_identity_and_need_no_approval_by_default() -> None:
    def ping() -> str:
        """Ping."""
        return "pong"

    first, second = tool_from(ping), tool_from(ping)
    assert first != second
    assert len({first, second}) == 2
    assert first.requires_approval is False
