"""The same concierge in a terminal: ``network.stream()`` with lanes, then ``stream.result``.

    python examples/ui_streaming/stream_console.py

Tokens of parallel work are prefixed with their lane (``ask:<call id>``); when the run
pauses for the booking approval, this script approves it and streams the rest.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from app import build_network

from graph_agents import Event


def show(event: Event, lanes: dict[str, str]) -> None:
    """Print one event; collect each lane's tokens in ``lanes``."""
    if event.type == "message.delta":
        lanes[event.lane] = lanes.get(event.lane, "") + str(event.data["delta"])
    elif event.type == "agent.started":
        print(f"[{event.lane or 'main'}] {event.agent} started")
    elif event.type == "message.completed" and event.data["content"]:
        print(f"[{event.lane or 'main'}] {event.agent}: {event.data['content']}")
    elif event.type == "tool.started":
        print(f"[{event.lane or 'main'}] -> {event.data['tool']}({event.data['arguments']})")
    elif event.type == "approval.requested":
        print(f"waiting for approval: {event.data['tool']}({event.data['arguments']})")


async def main(state_path: str | None = None) -> dict[str, Any]:
    network = build_network(state_path) if state_path else build_network()
    lanes: dict[str, str] = {}
    async with network:
        async with network.stream("Plan me a weekend in Lisbon") as stream:
            async for event in stream:
                show(event, lanes)
        paused = stream.result
        print(f"stop_reason: {paused.stop_reason}; approving {paused.interrupts[0].id}")
        result = await network.resume(
            paused.thread_id, approve=True, stream_callback=lambda e: show(e, lanes)
        )
    print(f"\noutput: {result.output}\nagent_path: {result.agent_path}\nstate: {result.state}")
    return {"paused": paused, "result": result, "lanes": lanes}


if __name__ == "__main__":
    asyncio.run(main())
