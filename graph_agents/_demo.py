"""The ``graph-agents demo`` network: research -> write -> review, with shared state.

Offline it runs on scripted models; with ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` set it
calls the real endpoint (model ``GRAPH_AGENTS_MODEL``, default ``gpt-4o-mini``).
"""

from __future__ import annotations

import os
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, ToolMessage

from .agent import Agent
from .memory import MemoryManager, VectorMemoryStore
from .models import OpenAIModelProvider
from .network import Network, create_network
from .state import SharedState, SqliteStateStore
from .testing import ScriptedModel, ScriptedResponse, ToolCall

__all__ = ["build_demo_network", "uses_real_model"]

_FACTS = {
    "quantum": "Qubits hold superpositions; entanglement links them; error correction "
    "needs many physical qubits per logical qubit.",
}


async def search_web(query: str, state: SharedState) -> str:
    """Search a small offline corpus for facts about a topic.

    Args:
        query: What to look for.
    """
    key = next((k for k in _FACTS if k in query.lower()), None)
    found = _FACTS[key] if key else f"No offline facts about {query!r}."
    await state.append("research_history", query)
    await state.set("research_results", found)
    return found


async def format_markdown(title: str, body: str, state: SharedState) -> str:
    """Format a draft as a Markdown document and keep it in shared state.

    Args:
        title: The document title.
        body: The document body.
    """
    document = f"# {title}\n\n{body}\n"
    await state.set("draft", document)
    return document


async def fact_check(state: SharedState) -> str:
    """Check the current draft against the research results."""
    draft = await state.get("draft", "")
    facts = await state.get("research_results", "")
    verdict = "consistent" if facts and any(w in draft for w in facts.split()[:3]) else "unverified"
    await state.set("review", verdict)
    return f"The draft is {verdict} with the research."


def uses_real_model() -> bool:
    """Whether an OpenAI-compatible endpoint is configured in the environment."""
    return bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


def _scripted(replies: list[ScriptedResponse]) -> BaseChatModel:
    own = {call.name for reply in replies for call in reply.tool_calls}

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        # How many of this agent's own tool results the conversation holds says how far
        # its turn has got, so every run (and every resumed run) replays the same script.
        done = sum(1 for m in messages if isinstance(m, ToolMessage) and m.name in own)
        return replies[min(done, len(replies) - 1)]

    return ScriptedModel(responder=respond, model_name="scripted-demo")


def demo_memory(state_path: str | Path, *, reflect: bool) -> MemoryManager:
    """The reviewer's memory: a persistent Chroma beside the SQLite file, local MiniLM."""
    folder = Path(state_path).with_suffix(".memory")
    store = VectorMemoryStore("demo_memory", path=str(folder), embeddings="local")
    return MemoryManager(store, enable_reflection=reflect, top_k=3)


def build_demo_network(state_path: str | Path = ".graph_agents/demo.sqlite") -> Network:
    """The demo network, on SQLite checkpoints at ``state_path``; the reviewer remembers
    earlier runs (Chroma at ``<state_path>.memory``)."""
    real = uses_real_model()
    researcher = Agent(
        name="Researcher",
        instructions="You research topics with search_web, then call transfer_to_writer.",
        tools=[search_web],
        model=None
        if real
        else _scripted(
            [
                ScriptedResponse(
                    tool_calls=[ToolCall("search_web", {"query": "quantum computing"})]
                ),
                ScriptedResponse(
                    text="Research done.",
                    tool_calls=[ToolCall("transfer_to_writer", {"reason": "research is complete"})],
                ),
            ]
        ),
    )
    writer = Agent(
        name="Writer",
        instructions="You write a short Markdown guide with format_markdown from the research "
        "in the conversation, then call transfer_to_reviewer.",
        tools=[format_markdown],
        model=None
        if real
        else _scripted(
            [
                ScriptedResponse(
                    tool_calls=[
                        ToolCall(
                            "format_markdown",
                            {
                                "title": "Quantum computing in brief",
                                "body": "Qubits hold superpositions, and entanglement links them.",
                            },
                        )
                    ]
                ),
                ScriptedResponse(
                    text="Draft written.",
                    tool_calls=[ToolCall("transfer_to_reviewer", {"reason": "draft ready"})],
                ),
            ]
        ),
    )
    reviewer = Agent(
        name="Reviewer",
        memory=demo_memory(state_path, reflect=real),
        instructions="You check the draft with fact_check and answer with a one-paragraph "
        "verdict. Do not hand off.",
        tools=[fact_check],
        model=None
        if real
        else _scripted(
            [
                ScriptedResponse(tool_calls=[ToolCall("fact_check", {})]),
                ScriptedResponse(
                    text="Approved: the guide is accurate, short and well structured."
                ),
            ]
        ),
    )
    return create_network(
        agents=[researcher, writer, reviewer],
        state_store=SqliteStateStore(state_path),
        model_provider=OpenAIModelProvider() if real else None,
        name="demo",
    )
