"""Human approval and durable threads: a payment pauses for a person, and is resumed later
by a different network object (as another process would), with an edited amount.

    python examples/approval_example.py

The thread lives in SQLite (``.graph_agents/approval_example.sqlite``). With
OPENAI_API_KEY / OPENAI_BASE_URL set it runs on that endpoint (GRAPH_AGENTS_MODEL,
default gpt-4o-mini); without them it starts graph_agents' OpenAI-compatible stub server
on loopback, scripted below, so the same code runs offline through the real HTTP client.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from graph_agents import Agent, SqliteStateStore, ToolContext, create_network, tool_from
from graph_agents.tools import human_approval_tool

MODEL = os.environ.get("GRAPH_AGENTS_MODEL", "gpt-4o-mini")
STORE = SqliteStateStore(Path(".graph_agents") / "approval_example.sqlite")
LEDGER: list[tuple[str, int, str]] = []


async def transfer_money(amount: int, to: str, context: ToolContext) -> str:
    """Send money to someone.

    Args:
        amount: Whole euros.
        to: The payee's name.
    """
    # A real payment API would take context.idempotency_key, so that a retried or
    # resumed call is charged once.
    LEDGER.append((context.idempotency_key, amount, to))
    return f"Sent {amount} EUR to {to} (attempt {context.attempt})."


def build() -> Any:
    """The network, as every process that serves the thread builds it."""
    pay = tool_from(transfer_money, requires_approval=lambda args: args["amount"] > 100)
    banker = Agent(
        "Banker",
        "You make payments. Ask for approval with human_approval_tool before unusual ones.",
        tools=[pay, human_approval_tool],
        model=MODEL,
    )
    return create_network(agents=[banker], state_store=STORE)


async def main() -> None:
    thread = f"payments-{uuid.uuid4().hex[:8]}"
    async with build() as network:
        paused = await network.run("Pay Eve 500 EUR for the moth survey.", thread_id=thread)
    print("stop_reason:", paused.stop_reason)
    for request in paused.interrupts:
        print(f"waiting:     {request.id} {request.agent}: {request.action} {request.details}")

    # Later, elsewhere: a new network object on the same store answers the request.
    async with build() as later:
        done = await later.resume(
            thread, approve=True, edits={"amount": 450}, feedback="450 is the agreed price."
        )
    print("stop_reason:", done.stop_reason)
    print("output:     ", done.output)
    print("ledger:     ", [(amount, to) for _, amount, to in LEDGER])


# --- Offline stand-in for a real endpoint --------------------------------------------------


def scripted_endpoint(body: dict[str, Any]) -> Any:
    from graph_agents.testing import ToolCall

    last = body["messages"][-1]
    if last["role"] == "user":
        return ToolCall("transfer_money", {"amount": 500, "to": "Eve"})
    return f"Done: {last['content']}"


if __name__ == "__main__":
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        asyncio.run(main())
    else:
        from graph_agents.testing import OpenAIStubServer

        with OpenAIStubServer(responder=scripted_endpoint) as stub:
            os.environ.update(OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="offline")
            asyncio.run(main())
