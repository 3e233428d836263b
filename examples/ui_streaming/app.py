"""A travel concierge to watch live: parallel delegations stream side by side, tools run,
state changes, and booking waits for your approval. Offline, on scripted models.

    graph-agents serve examples/ui_streaming/app.py:network     # then open http://127.0.0.1:8000/

The concierge asks two colleagues at once (``ask_weather`` and ``ask_guide``: two lanes
of tokens), searches flights, and books one only after a human clicks **Approve**.
Threads live in SQLite (``.graph_agents/ui_streaming.sqlite``), so a paused booking
survives a server restart. AG-UI clients connect to ``POST /ag-ui`` on the same server.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from graph_agents import Agent, Network, SharedState, SqliteStateStore, create_network, tool_from
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall

TOKEN_DELAY = 0.04
"""Seconds between scripted tokens, slow enough to watch them arrive."""


async def search_flights(city: str, state: SharedState) -> str:
    """Find flights to a city.

    Args:
        city: Where to fly.
    """
    await state.set("destination", city)
    return f"TP 1350 to {city}, Friday 09:40, 180 EUR"


async def book_flight(flight: str, state: SharedState) -> str:
    """Book a flight (waits for a human's approval).

    Args:
        flight: The flight, as search_flights described it.
    """
    await state.append("bookings", flight)
    return f"Booked: {flight}. Confirmation GA-7731."


def _say(text: str) -> ScriptedResponse:
    return ScriptedResponse(text=text, token_delay=TOKEN_DELAY)


def concierge_reply(messages: list[BaseMessage]) -> ScriptedResponse:
    """The concierge's script, keyed on where the conversation is."""
    last = messages[-1]
    if isinstance(last, HumanMessage):
        city = "Lisbon"
        return ScriptedResponse(
            text="Let me check with the team.",
            token_delay=TOKEN_DELAY,
            tool_calls=[
                ToolCall("ask_weather", {"task": f"What is the weather in {city} this weekend?"}),
                ToolCall("ask_guide", {"task": f"What should a visitor see in {city}?"}),
            ],
        )
    assert isinstance(last, ToolMessage)
    if last.name and last.name.startswith("ask_"):
        return ScriptedResponse(tool_calls=[ToolCall("search_flights", {"city": "Lisbon"})])
    if last.name == "search_flights":
        return ScriptedResponse(tool_calls=[ToolCall("book_flight", {"flight": str(last.content)})])
    if "rejected" in str(last.content).lower():
        return _say("Understood, I did not book anything. Sunny weekend in Lisbon either way!")
    return _say(
        "All set: sunny and 24 °C in Lisbon, start at the Belém Tower, and your flight "
        "TP 1350 on Friday is booked (confirmation GA-7731)."
    )


def build_network(
    state_path: str | Path = Path(".graph_agents") / "ui_streaming.sqlite",
) -> Network:
    """The concierge network, its threads in SQLite at ``state_path``."""
    weather = ScriptedModel(
        responder=lambda m: _say("Sunny, 24 °C on Saturday, a light breeze on Sunday.")
    )
    guide = ScriptedModel(
        responder=lambda m: _say("Start at the Belém Tower, then tram 28 through Alfama.")
    )
    return create_network(
        agents=[
            Agent(
                "Concierge",
                "You plan trips: ask your colleagues, find a flight, book it.",
                model=ScriptedModel(responder=concierge_reply),
                tools=[search_flights, tool_from(book_flight, requires_approval=True)],
            ),
            Agent("Weather", "You forecast the weather.", model=weather),
            Agent("Guide", "You know what to see.", model=guide),
        ],
        state_store=SqliteStateStore(state_path),
        name="concierge",
    )


network = build_network()
