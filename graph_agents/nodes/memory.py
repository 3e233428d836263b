"""Memory in an agent turn: recall before the model call, the exchange stored after.

The recalled memories go into the prompt as one system message, fenced by
``<memories>`` tags, after the agent's instructions. The exchange (the turn's request
and the answer) is stored before the step completes, under an id derived from the
thread and the graph task, so a resumed step that answers again replaces it instead of
adding a copy. A due reflection runs in the background; the runner awaits every such
write before the run returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from .context import RunContext

if TYPE_CHECKING:
    from ..memory import Memory, MemoryManager
    from .agent import CompiledAgent

__all__ = ["recall", "remember", "turn_request"]


def turn_request(messages: list[BaseMessage]) -> str:
    """The request the turn answers: the latest human message's text."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


async def recall(
    spec: CompiledAgent, messages: list[BaseMessage], ctx: RunContext
) -> SystemMessage | None:
    """The memories for this turn's request, as a system message (``None``: none)."""
    memory: MemoryManager = spec.agent.memory
    request = turn_request(messages)
    if not request:
        return None
    writes = ctx.memory
    key = (spec.agent.name, request)
    found: list[Memory] | None = writes.recalled.get(key) if writes is not None else None
    if found is None:
        found = await memory.search(
            request, agent=spec.agent.name, network=ctx.owner, user_id=ctx.user_id
        )
        if writes is not None:
            writes.recalled[key] = found
            writes.spawn(memory.flush, f"{spec.agent.name}'s recall")
        ctx.emit(
            "memory.recalled",
            {"ids": [m.id for m in found], "count": len(found), "scope": memory.scope},
            agent=spec.agent.name,
        )
    if not found:
        return None
    lines = "\n".join(f"- ({m.kind}) {m.text}" for m in found)
    return SystemMessage(
        "Relevant memories from earlier conversations (they may be out of date; use them "
        f"only where they help):\n<memories>\n{lines}\n</memories>"
    )


async def remember(
    spec: CompiledAgent, messages: list[BaseMessage], answer: str, ctx: RunContext, task: str
) -> None:
    """Store the turn's exchange, then start a reflection in the background if it is due.

    The exchange is stored before the step completes, so the step's checkpoint exists
    only once the memory does: a process that dies in between re-runs the step on
    resume, and the same id (thread, task, agent) replaces the memory instead of adding
    a copy. Its tokens and ``message.completed`` have already gone out: the answer is
    not delayed. A store that stays down fails the step (with `StoreError`), so
    ``resume(thread_id)`` stores it later; nothing is lost.
    """
    # Imported here: only agents with memory load Chroma.
    from ..memory.turns import reflect_if_due, remember_exchange

    memory: MemoryManager = spec.agent.memory
    request = turn_request(messages)
    if not request or not answer.strip():
        return
    name = spec.agent.name
    stored = await remember_exchange(
        memory,
        request=request,
        answer=answer,
        agent=name,
        network=ctx.owner,
        user_id=ctx.user_id,
        thread_id=ctx.thread_id,
        key=f"{ctx.thread_id}|{task}|{name}",
        model=spec.model,
    )
    ctx.emit("memory.stored", {"ids": [stored.id], "kind": "observation"}, agent=name)
    writes = ctx.memory
    if memory.enable_reflection and writes is not None:
        model = spec.model

        async def reflect() -> None:
            made = await reflect_if_due(
                memory, model, agent=name, network=ctx.owner, user_id=ctx.user_id
            )
            if made:
                ctx.emit(
                    "memory.stored", {"ids": [m.id for m in made], "kind": "reflection"}, agent=name
                )

        writes.spawn(reflect, f"{name}'s reflection")
