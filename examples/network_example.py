"""The quick start of "Networks and Orchestration": researcher, writer and reviewer.

    python examples/network_example.py

With OPENAI_API_KEY (and optionally OPENAI_BASE_URL, GRAPH_AGENTS_MODEL) set, it runs on
that endpoint. Without them it starts graph_agents' OpenAI-compatible stub server on
loopback, scripted below, so the same code runs offline through the real HTTP client.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from graph_agents import Agent, SharedState, create_network
from graph_agents.routers import SemanticRouter
from graph_agents.state import InMemoryStateStore

MODEL = os.environ.get("GRAPH_AGENTS_MODEL", "gpt-4")

_LIBRARY = {
    "quantum": "Quantum computers use qubits, which hold superpositions of 0 and 1; "
    "entanglement links qubits; error correction needs many physical qubits per logical one.",
}


async def search_web(query: str, state: SharedState) -> str:
    """Search the web for information on a topic.

    Args:
        query: What to search for.
    """
    found = next(
        (text for key, text in _LIBRARY.items() if key in query.lower()),
        f"No results for {query!r}.",
    )
    await state.set("research_results", found)
    await state.append("research_history", query)
    return found


async def analyze_document(text: str, state: SharedState) -> str:
    """Extract the key points of a document.

    Args:
        text: The document text.
    """
    points = [p.strip() for p in text.replace(";", ".").split(".") if p.strip()]
    await state.set("key_points", points)
    return "\n".join(f"- {p}" for p in points)


async def format_markdown(title: str, body: str, state: SharedState) -> str:
    """Format a document as Markdown.

    Args:
        title: The title.
        body: The body text.
    """
    document = f"# {title}\n\n{body}\n"
    await state.set("draft", document)
    return document


async def check_grammar(text: str) -> str:
    """Check a text for obvious grammar slips.

    Args:
        text: The text to check.
    """
    slips = [w for w in ("teh", "recieve", "seperate") if w in text.lower()]
    return f"Possible slips: {', '.join(slips)}" if slips else "No grammar slips found."


async def fact_check(state: SharedState) -> str:
    """Check the draft in shared state against the research results."""
    draft = await state.get("draft", "")
    points = await state.get("key_points", [])
    supported = [p for p in points if p.split()[0].lower() in draft.lower()]
    await state.set("fact_check", {"supported": len(supported), "total": len(points)})
    return f"{len(supported)} of {len(points)} key points are reflected in the draft."


async def suggest_improvements(state: SharedState) -> str:
    """Suggest improvements to the draft in shared state."""
    draft = await state.get("draft", "")
    suggestions = [] if "error" in draft.lower() else ["Add a section on error correction."]
    await state.set("suggestions", suggestions)
    return "; ".join(suggestions) or "No further suggestions."


async def main() -> dict[str, Any]:
    # Create specialized agents
    researcher = Agent(
        name="Researcher",
        instructions="You search and analyze information from various sources.",
        tools=[search_web, analyze_document],
    )
    writer = Agent(
        name="Writer",
        instructions="You create well-structured content based on research.",
        tools=[format_markdown, check_grammar],
    )
    reviewer = Agent(
        name="Reviewer",
        instructions="You review content for accuracy and quality.",
        tools=[fact_check, suggest_improvements],
    )

    # Create a network with intelligent routing
    network = create_network(
        agents=[researcher, writer, reviewer],
        router=SemanticRouter(),
        state_store=InMemoryStateStore(),
        default_model=MODEL,
    )

    # Run the network
    result = await network.run(
        "Write a comprehensive guide about quantum computing",
        max_iterations=10,
    )
    print("output:    ", result.output)
    print("agent_path:", " -> ".join(result.agent_path))
    print("state keys:", sorted(result.state))
    # Every run is traced (OpenTelemetry spans; get_traces() reads this process's).
    traces = network.get_traces()
    for trace in traces:
        print(f"{trace.agent} -> {trace.duration}ms")
    return {"output": result.output, "agent_path": result.agent_path, "state": result.state}


# --- Offline stand-in for a real endpoint --------------------------------------------------
# Each agent, told apart by its instructions, calls its two tools and then hands off (the
# reviewer answers). A real model decides this itself.

_SCRIPTS = {
    "You search": [
        ("search_web", {"query": "quantum computing"}),
        ("analyze_document", {"text": _LIBRARY["quantum"]}),
        ("transfer_to_writer", {"reason": "research done"}),
    ],
    "You create": [
        (
            "format_markdown",
            {
                "title": "Quantum computing: a guide",
                "body": "Qubits hold superpositions. Entanglement "
                "links qubits. Error correction is costly.",
            },
        ),
        ("check_grammar", {"text": "Qubits hold superpositions."}),
        ("transfer_to_reviewer", {"reason": "draft ready"}),
    ],
    "You review": [("fact_check", {}), ("suggest_improvements", {})],
}


def scripted_endpoint(body: dict[str, Any]) -> Any:
    from graph_agents.testing import ToolCall

    messages = body["messages"]
    system = messages[0]["content"]
    script = next(steps for prefix, steps in _SCRIPTS.items() if system.startswith(prefix))
    own = {name for name, _ in script}
    done = sum(1 for m in messages if m["role"] == "tool" and _tool_name(messages, m) in own)
    if done < len(script):
        name, args = script[done]
        return ToolCall(name, args)
    return "The guide is accurate and well structured: approved for publication."


def _tool_name(messages: list[dict[str, Any]], tool_message: dict[str, Any]) -> str:
    for message in messages:
        for call in message.get("tool_calls") or []:
            if call["id"] == tool_message["tool_call_id"]:
                return str(call["function"]["name"])
    return ""


if __name__ == "__main__":
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        asyncio.run(main())
    else:
        from graph_agents.testing import OpenAIStubServer

        with OpenAIStubServer(responder=scripted_endpoint) as stub:
            os.environ.update(OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="offline")
            asyncio.run(main())
