"""A second process for the thread tests: runs one query on a thread and prints JSON.

Usage: python thread_worker.py <sqlite|postgres> <path-or-dsn> <thread_id> <query> [delay]
"""

from __future__ import annotations

import asyncio
import json
import sys

from langchain_core.messages import BaseMessage, HumanMessage

from graph_agents import Agent, Event, PostgresStateStore, SqliteStateStore, create_network
from graph_agents.testing import ScriptedModel, ScriptedResponse


def remembering_model(delay: float) -> ScriptedModel:
    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        asked = [str(m.content) for m in messages if isinstance(m, HumanMessage)]
        return ScriptedResponse(text=f"answer {len(asked)}: heard {' | '.join(asked)}", delay=delay)

    return ScriptedModel(responder=respond)


def build(kind: str, where: str, delay: float = 0.0):  # type: ignore[no-untyped-def]
    store = SqliteStateStore(where) if kind == "sqlite" else PostgresStateStore(where)
    return create_network(
        agents=[Agent("Memo", "Remember.", model=remembering_model(delay))], state_store=store
    )


async def main() -> None:
    kind, where, thread, query = sys.argv[1:5]
    delay = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0

    def announce(event: Event) -> None:
        if event.type == "run.started":
            print("STARTED", flush=True)

    async with build(kind, where, delay) as network:
        result = await network.run(query, thread_id=thread, stream_callback=announce)
    print(
        json.dumps(
            {
                "output": result.output,
                "agent_path": result.agent_path,
                "messages": [m.type for m in result.messages],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
