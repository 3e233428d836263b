"""Long-term memory: an assistant remembers a user's preferences across runs and processes.

    python examples/memory_example.py

The first run (in this process) tells the assistant the user's preferences; the second
run happens in a fresh Python process that opens the same persistent Chroma directory
(``.graph_agents/memory_example``) and books accordingly. Reflection is on: once enough
important exchanges pile up, the assistant's model writes an insight that cites them.
With OPENAI_API_KEY / OPENAI_BASE_URL set it runs on that endpoint (GRAPH_AGENTS_MODEL,
default gpt-4o-mini); without them, on a scripted model. Embeddings are the offline MiniLM.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from graph_agents import Agent, create_network
from graph_agents.memory import MemoryManager, VectorMemoryStore
from graph_agents.network import Network
from graph_agents.testing import ScriptedModel

FOLDER = Path(".graph_agents") / "memory_example"


def offline_assistant(messages: list[BaseMessage]) -> str:
    """The scripted assistant: it books by what its recalled memories say."""
    prompt = "\n".join(m.text for m in messages)
    if "high-level insights" in messages[-1].text:
        return "- The user is vegetarian and always wants a window seat"
    if "<memories>" in prompt and "vegetarian" in prompt:
        return "Booked: a window seat to Lisbon, and a vegetarian dinner on board."
    if "book" in messages[-1].text.lower():
        return "Booked a flight to Lisbon."
    return "Noted: vegetarian meals and window seats, always."


def build(folder: Path = FOLDER) -> Network:
    """The assistant, its memories in a persistent Chroma at ``folder``."""
    real = bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))
    memory = MemoryManager(
        VectorMemoryStore("assistant_memory", path=str(folder), embeddings="local"),
        enable_reflection=True,
        reflection_threshold=12.0,
        scope="user",
    )
    model: Any = (
        os.environ.get("GRAPH_AGENTS_MODEL", "gpt-4o-mini")
        if real
        else ScriptedModel(responder=offline_assistant)
    )
    assistant = Agent(
        "Assistant",
        "You book travel. Use what you remember about the user.",
        model=model,
        memory=memory,
    )
    return create_network(agents=[assistant], name="travel")


async def first_run(folder: Path) -> dict[str, Any]:
    network = build(folder)
    result = await network.run(
        "Remember: I am vegetarian and I always prefer a window seat.", user_id="ann"
    )
    memories = await network.agents[0].memory.all(user_id="ann")
    return {"output": result.output, "kinds": [m.kind for m in memories]}


async def second_run(folder: Path) -> dict[str, Any]:
    network = build(folder)
    result = await network.run("Book me a flight to Lisbon with dinner.", user_id="ann")
    memories = await network.agents[0].memory.all(user_id="ann")
    return {"output": result.output, "kinds": [m.kind for m in memories]}


def main(folder: Path = FOLDER) -> dict[str, Any]:
    """Run the first conversation here and the second in a fresh process."""
    first = asyncio.run(first_run(folder))
    print("first run: ", first["output"])
    done = subprocess.run(
        [sys.executable, __file__, "--second", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    second = json.loads(done.stdout.strip().splitlines()[-1])
    print("second run:", second["output"])
    print("memories:  ", second["kinds"])
    return {"first": first, "second": second}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--second":
        print(json.dumps(asyncio.run(second_run(Path(sys.argv[2])))))
    else:
        main()
