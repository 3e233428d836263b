"""The fault tests' workload: two agents, a tool that appends to shared state, one
handoff, six messages per run. Also run as a second process:

    python -m tests.faults.workload <dsn> <thread_id> <query> [model delay] [--wait]

``--wait`` waits for a line on stdin, then retries while another process holds the
thread. The process prints ``{"ready": true}`` once it is set up, then one JSON line:
the outcome and, on failure, the error's type and fields.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from graph_agents import (
    Agent,
    ConcurrentRunError,
    GraphAgentsError,
    PostgresStateStore,
    SharedState,
    StoreError,
    create_network,
)
from graph_agents.network import Network
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


def _since_last_question(messages: list[BaseMessage]) -> tuple[str, list[BaseMessage]]:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return str(messages[index].content), messages[index + 1 :]
    return "", []


def clerk(delay: float) -> ScriptedModel:
    """Notes the request with its tool, then hands off to the filer."""

    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        query, after = _since_last_question(messages)
        if not any(isinstance(m, ToolMessage) for m in after):
            return ScriptedResponse(tool_calls=[ToolCall("note", {"text": query})], delay=delay)
        return ScriptedResponse(
            tool_calls=[ToolCall("transfer_to_filer", {"reason": "noted"})], delay=delay
        )

    return ScriptedModel(responder=respond)


def filer(delay: float) -> ScriptedModel:
    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        query, _ = _since_last_question(messages)
        return ScriptedResponse(text=f"filed {query}", delay=delay)

    return ScriptedModel(responder=respond)


NOTES: list[str] = []
"""Every run of the note tool's body in this process, in order."""


async def note(text: str, state: SharedState) -> str:
    """Note a request in the shared log.

    Args:
        text: What was asked.
    """
    NOTES.append(text)
    await state.append("log", text)
    return f"noted {text}"


def network(store: Any, delay: float = 0.0) -> Network:
    """The workload's network on ``store``."""
    return create_network(
        agents=[
            Agent("Clerk", "Note requests, then hand off.", tools=[note], model=clerk(delay)),
            Agent("Filer", "File what was noted.", model=filer(delay)),
        ],
        router=lambda state, query: "Clerk",  # every request starts with the clerk
        state_store=store,
    )


def exact_history(values: dict[str, Any], queries: list[str]) -> None:
    """Assert that a thread holds exactly ``queries``' runs, in order, each complete."""
    messages = values["messages"]
    assert [str(m.content) for m in messages if isinstance(m, HumanMessage)] == queries
    assert len(messages) == 6 * len(queries), [type(m).__name__ for m in messages]
    for index, query in enumerate(queries):
        run = messages[6 * index : 6 * index + 6]
        assert [type(m).__name__ for m in run] == [
            "HumanMessage",
            "AIMessage",
            "ToolMessage",
            "AIMessage",
            "ToolMessage",
            "AIMessage",
        ]
        assert isinstance(run[5], AIMessage)
        assert run[5].content == f"filed {query}"
    assert values["shared"]["log"] == queries


async def _main() -> None:
    dsn, thread, query = sys.argv[1:4]
    delay = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "--wait" else 0.0
    wait = "--wait" in sys.argv
    async with network(PostgresStateStore(dsn), delay) as net:
        print(json.dumps({"ready": True}), flush=True)
        if wait:
            await asyncio.to_thread(sys.stdin.readline)
        while True:
            try:
                result = await net.run(query, thread_id=thread)
            except ConcurrentRunError:
                if wait:
                    await asyncio.sleep(0.02)
                    continue
                raise
            except GraphAgentsError as exc:
                fields = {k: getattr(exc, k, None) for k in ("operation", "retry_safe", "written")}
                print(json.dumps({"error": type(exc).__name__, "message": str(exc), **fields}))
                return
            except BaseException as exc:  # a raw driver error: the tests fail on it
                print(json.dumps({"error": type(exc).__name__, "raw": True, "message": str(exc)}))
                return
            print(json.dumps({"output": result.output, "stop_reason": result.stop_reason}))
            return


if __name__ == "__main__":
    asyncio.run(_main())


__all__ = ["StoreError", "exact_history", "network"]
