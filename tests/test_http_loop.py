"""The full model/tool loop over HTTP: the real langchain-openai client against the stub."""

from __future__ import annotations

import json

import pytest

from graph_agents import Agent, OpenAIModelProvider, SharedState, create_network
from graph_agents.testing import OpenAIStubServer, ScriptedResponse, ToolCall


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
async def test_model_tool_loop_over_http(stub: OpenAIStubServer, streaming: bool) -> None:
    received: list[tuple[str, int]] = []

    async def lookup_price(item: str, quantity: int, state: SharedState) -> dict[str, object]:
        """Look up the price of an item.

        Args:
            item: The item name.
            quantity: How many.
        """
        received.append((item, quantity))
        await state.set("last_item", item)
        return {"item": item, "total": 2.5 * quantity}

    stub.add(
        ScriptedResponse(
            tool_calls=[ToolCall("lookup_price", {"item": "apple", "quantity": 4}, id="call_1")],
            usage=(11, 3),
        ),
        ScriptedResponse(text="Four apples cost 10.0.", usage=(17, 5)),
    )
    network = create_network(
        agents=[Agent("Shop", "You price items.", tools=[lookup_price])],
        default_model="gpt-test",
        model_provider=OpenAIModelProvider(
            base_url=stub.base_url, api_key="sk-test", streaming=streaming
        ),
    )
    deltas: list[str] = []
    result = await network.run(
        "How much are 4 apples?",
        stream_callback=lambda e: (
            deltas.append(e.data["delta"]) if e.type == "message.delta" else None
        ),
    )

    assert received == [("apple", 4)]
    assert result.output == "Four apples cost 10.0."
    assert result.agent_path == ["Shop"]
    assert result.stop_reason == "completed"
    assert result.state == {"last_item": "apple"}
    first, second = stub.chat_requests
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "lookup_price",
                "description": "Look up the price of an item.",
                "parameters": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "item": {"type": "string", "description": "The item name."},
                        "quantity": {"type": "integer", "description": "How many."},
                    },
                    "required": ["item", "quantity"],
                },
            },
        }
    ]
    assert second["messages"] == [
        {"role": "system", "content": "You price items."},
        {"role": "user", "content": "How much are 4 apples?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "lookup_price",
                        "arguments": json.dumps({"item": "apple", "quantity": 4}),
                    },
                }
            ],
        },
        {"role": "tool", "content": '{"item": "apple", "total": 10.0}', "tool_call_id": "call_1"},
    ]
    assert second["model"] == "gpt-test"
    assert bool(second.get("stream")) is streaming
    assert result.usage == {"input_tokens": 28, "output_tokens": 8, "total_tokens": 36}
    if streaming:
        assert deltas == ["Four", " apples", " cost", " 10.0."]
    else:
        assert deltas == ["Four apples cost 10.0."]
