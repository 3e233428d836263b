"""Tools cannot hang a run: a call that runs over its timeout is cancelled, the model is
told, and the run goes on."""

from __future__ import annotations

import asyncio
import time

import pytest

from graph_agents import Agent, ConfigurationError, create_network
from graph_agents.testing import ScriptedModel, ToolCall
from graph_agents.tools import AGENT_TIMEOUT, DEFAULT_TOOL_TIMEOUT, tool_from


async def test_a_hanging_tool_is_cancelled_and_the_run_completes() -> None:
    never = asyncio.Event()
    cancelled: list[bool] = []

    async def wait_forever() -> str:
        """Wait for something that never happens."""
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "unreachable"

    model = ScriptedModel([ToolCall("wait_forever", {}, id="c1"), "Gave up waiting."])
    network = create_network(
        agents=[Agent("A", tools=[wait_forever], tool_timeout=0.2, model=model)]
    )
    result = await network.run("Wait")
    expected = (
        "Error: Tool 'wait_forever' did not finish within 0.2 s and was cancelled. Try a "
        "smaller request, or another approach."
    )
    assert result.output == "Gave up waiting."
    assert result.stop_reason == "completed"
    assert cancelled == [True]
    assert model.calls[1].messages[-1].content == expected
    assert result.tool_errors == [
        {"agent": "A", "tool": "wait_forever", "call_id": "c1", "error": expected}
    ]


async def test_the_tool_timeout_overrides_the_agents_and_none_means_no_limit() -> None:
    async def slow(seconds: float) -> str:
        """Sleep."""
        await asyncio.sleep(seconds)
        return f"slept {seconds}"

    unlimited = tool_from(slow, name="unlimited", timeout=None)
    strict = tool_from(slow, name="strict", timeout=0.05)
    model = ScriptedModel(
        [
            ToolCall("unlimited", {"seconds": 0.3}),
            ToolCall("strict", {"seconds": 0.2}),
            ToolCall("slow", {"seconds": 0.15}),
            "done",
        ]
    )
    network = create_network(
        agents=[Agent("A", tools=[unlimited, strict, slow], tool_timeout=0.1, model=model)]
    )
    started = time.monotonic()
    result = await network.run("go")
    assert time.monotonic() - started < 5
    results = [str(call.messages[-1].content) for call in model.calls[1:]]
    assert results == [
        "slept 0.3",
        "Error: Tool 'strict' did not finish within 0.05 s and was cancelled. Try a smaller "
        "request, or another approach.",
        "Error: Tool 'slow' did not finish within 0.1 s and was cancelled. Try a smaller "
        "request, or another approach.",
    ]
    assert [e["tool"] for e in result.tool_errors] == ["strict", "slow"]


def test_timeout_defaults_and_validation() -> None:
    async def ping() -> str:
        """Ping."""
        return "pong"

    assert Agent("A").tool_timeout == DEFAULT_TOOL_TIMEOUT == 300.0
    assert tool_from(ping).timeout is AGENT_TIMEOUT
    with pytest.raises(ConfigurationError) as caught:
        Agent("A", tool_timeout=0)
    assert str(caught.value) == (
        "Agent 'A': tool_timeout=0 is out of range: it must be greater than 0. It is in "
        "seconds; None means no limit."
    )
    with pytest.raises(ConfigurationError, match=r"^tool_from: timeout=-1 is out of range"):
        tool_from(ping, timeout=-1)
