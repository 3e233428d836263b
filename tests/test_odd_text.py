"""Every state store behaves the same on any text: it keeps it exactly, or every store
refuses it before anything is written, with the same clear error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from graph_agents import Agent, ConfigurationError, SharedState, create_network
from graph_agents.testing import ScriptedModel, ToolCall

KEPT = {
    "emoji": "scientist 👩‍🔬 and rocket 🚀",
    "right-to-left": "שלום עולם and مرحبا بالعالم",
    "combining": "e\u0301 n\u0303 Z\u0351\u0352",
    "one megabyte": "0123456789abcdef" * 65_536,
}
REFUSED = {
    "NUL": (
        "a\x00b",
        1,
        "contains a NUL character (\\x00) at position {}, which PostgreSQL cannot store, so no "
        "state store accepts it. Remove it, or encode binary data (e.g. base64) before "
        "passing it.",
    ),
    "lone surrogate": (
        "ab\ud800c",
        2,
        "contains a lone surrogate '\\ud800' at position {}, which is not valid Unicode and "
        "cannot be stored. Decode the text with errors='replace' (or fix where it comes "
        "from) before passing it.",
    ),
}


def network_keeping(value: Any, store: object, *, answer: str = "done") -> Any:
    async def remember(state: SharedState) -> str:
        """Remember the value."""
        await state.set("value", value)
        await state.append("items", {"nested": [value]})
        return "kept"

    model = ScriptedModel([ToolCall("remember", {}), answer])
    return create_network(
        agents=[Agent("A", model=model, tools=[remember])], state_store=store
    ), model


@pytest.mark.parametrize("name", sorted(KEPT))
async def test_text_round_trips_exactly_on_every_store(name: str, state_store: object) -> None:
    text = KEPT[name]
    thread = f"odd-{uuid.uuid4()}"
    network, _ = network_keeping(text, state_store, answer=f"answer: {text}")
    network.state.set("seeded", text)
    async with network:
        result = await network.run(f"query: {text}", thread_id=thread)
        saved = await network.get_state(thread)
    assert result.output == f"answer: {text}"
    assert saved is not None
    assert saved.query == f"query: {text}"
    assert saved.output == f"answer: {text}"
    assert saved.state == {"seeded": text, "value": text, "items": [{"nested": [text]}]}
    assert saved.messages[0].content == f"query: {text}"


@pytest.mark.parametrize("name", sorted(REFUSED))
async def test_text_no_store_can_keep_is_refused_before_anything_is_written(
    name: str, state_store: object
) -> None:
    text, position, template = REFUSED[name]
    problem = template.format(position)
    thread = f"odd-{uuid.uuid4()}"
    network, model = network_keeping(text, state_store)
    async with network:
        with pytest.raises(ConfigurationError) as caught:
            await network.run(f"q {text}", thread_id=f"{thread}-refused")
        assert str(caught.value) == f"query {template.format(position + 2)}"
        assert await network.get_state(f"{thread}-refused") is None
        assert model.calls == []

        result = await network.run("store it", thread_id=f"{thread}-tool")
        saved = await network.get_state(f"{thread}-tool")
    assert result.tool_errors[0]["error"] == (
        "Error: tool 'remember' raised ConfigurationError: State value 'value' "
        + problem
        + " Fix the arguments or try another approach."
    )
    assert saved is not None
    assert saved.state == {}
    with pytest.raises(ConfigurationError) as seeded:
        network.state.set("seed", {"deep": [text]})
    assert str(seeded.value) == f"State value 'seed'['deep'][0] {problem}"
