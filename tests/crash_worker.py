"""A network process for the durability tests: it runs, is killed, and is resumed.

Usage: python crash_worker.py <sqlite|postgres> <path-or-dsn> <thread_id> <command> <log>
  command: ``run:<hang>`` runs a new query, ``resume`` resumes the thread,
  ``approve`` answers its one pending approval; ``<hang>`` is ``model``, ``tool`` or
  ``none``: the second model call, or the second tool call, hangs on its first attempt
  (so the test can kill the process there).

Every model call and tool body appends a JSON line to <log> as it starts and ends, so
counts survive the process. The result is printed as JSON. ``CRASH_DURABILITY`` overrides
the store's durability (with ``async`` or ``exit`` the tests fail: a kill loses steps).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from graph_agents import (
    Agent,
    ConcurrentRunError,
    Network,
    PostgresStateStore,
    SqliteStateStore,
    create_network,
    tool_from,
)
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall
from graph_agents.tools import ToolContext

HANG = 60.0


class Log:
    def __init__(self, path: str):
        self.path = Path(path)

    def write(self, **entry: Any) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps({"pid": os.getpid(), **entry}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]


def build(kind: str, where: str, log: Log, hang: str, *, approve_b: bool = False) -> Network:
    def respond(messages: list[BaseMessage]) -> ScriptedResponse:
        turn = sum(isinstance(m, AIMessage) for m in messages) + 1
        first = not any(e["event"] == "model.start" and e["turn"] == turn for e in log.entries())
        log.write(event="model.start", turn=turn)
        delay = HANG if hang == "model" and turn == 2 and first else 0.0
        if turn == 1:
            reply = ScriptedResponse(tool_calls=[ToolCall("ship", {"item": "a"}, id="call-a")])
        elif turn == 2:
            reply = ScriptedResponse(tool_calls=[ToolCall("ship", {"item": "b"}, id="call-b")])
        else:
            reply = ScriptedResponse(text="Shipped a and b.")
        return ScriptedResponse(
            text=reply.text, tool_calls=reply.tool_calls, delay=delay, usage=(1, 1)
        )

    async def ship(item: str, context: ToolContext) -> str:
        """Ship an item."""
        log.write(
            event="tool.start", item=item, attempt=context.attempt, key=context.idempotency_key
        )
        if hang == "tool" and item == "b" and context.attempt == 1:
            await asyncio.sleep(HANG)
        log.write(event="tool.end", item=item)
        return f"shipped {item}"

    class Logged(ScriptedModel):
        async def _astream(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
            async for chunk in super()._astream(messages, *args, **kwargs):
                yield chunk
            turn = sum(isinstance(m, AIMessage) for m in messages) + 1
            log.write(event="model.end", turn=turn)

    tool = tool_from(ship, requires_approval=(lambda a: a["item"] == "b") if approve_b else False)
    store = SqliteStateStore(where) if kind == "sqlite" else PostgresStateStore(where)
    return create_network(
        agents=[Agent("Clerk", "Ship things.", model=Logged(responder=respond), tools=[tool])],
        state_store=store,
        durability=os.environ.get("CRASH_DURABILITY") or None,  # type: ignore[arg-type]
    )


async def main() -> None:
    kind, where, thread, command, log_path = sys.argv[1:6]
    log = Log(log_path)
    hang = command.split(":", 1)[1] if ":" in command else "none"
    approve_b = len(sys.argv) > 6 and sys.argv[6] == "approval"
    async with build(kind, where, log, hang, approve_b=approve_b) as network:
        for retries in range(100):  # noqa: B007 - printed below
            try:
                if command.startswith("run"):
                    result = await network.run("ship a and b", thread_id=thread)
                elif command == "approve":
                    result = await network.resume(thread, approve=True)
                else:
                    result = await network.resume(thread)
                break
            except ConcurrentRunError:
                # The killed holder's lock is released once the server sees it gone.
                await asyncio.sleep(0.05)
        else:
            raise SystemExit("the thread stayed locked")
    print(
        json.dumps(
            {
                "output": result.output,
                "stop_reason": result.stop_reason,
                "interrupts": [r.id for r in result.interrupts],
                "lock_retries": retries,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
