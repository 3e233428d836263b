"""The two nodes of an agent turn: the model step and the tool step.

They are separate graph nodes so that each is checkpointed on its own: a failure or an
interrupt inside a tool never re-runs the model call that asked for it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from .._calls import provider_of
from ..exceptions import ConfigurationError, ModelProviderError
from ..models import RetryPolicy, describe_model, stream_chat
from ..tools import Tool, tool_from
from . import memory as memory_nodes
from .context import RunContext

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable
    from langgraph.runtime import Runtime

    from ..agent import Agent
    from .schema import GraphState

__all__ = ["CompiledAgent", "ask_tool_name", "handoff_tool_name", "make_model_node"]

logger: logging.Logger = logging.getLogger("graph_agents.nodes")

Node = Callable[["GraphState", "Runtime[RunContext]"], Awaitable[dict[str, Any]]]


@dataclass(eq=False)
class CompiledAgent:
    """An agent with its model resolved, its tools bound and its node names fixed."""

    agent: Agent
    model: BaseChatModel
    bound: Runnable[Any, Any]
    tools: dict[str, Tool]
    system_prompt: str
    model_name: str
    provider_name: str
    model_node: str
    tool_node: str
    handoffs: dict[str, str]
    """Handoff tool name -> the agent it transfers control to."""
    delegates: dict[str, str]
    """Delegation tool name -> the agent it asks."""

    @classmethod
    def build(cls, agent: Agent, model: BaseChatModel, peers: Sequence[Agent]) -> CompiledAgent:
        """Add handoff and ask tools for ``peers`` to ``agent``'s, and bind them to ``model``."""
        others = [peer for peer in peers if peer.name != agent.name]
        handoffs = {handoff_tool_name(peer.name): peer.name for peer in others}
        delegates = {ask_tool_name(peer.name): peer.name for peer in others}
        tools = {t.name: t for t in agent.tool_list}
        for peer in others:
            for tool in (_handoff_tool(peer), _ask_tool(peer)):
                if tool.name in tools:
                    raise ConfigurationError(
                        f"Agent {agent.name!r} has a tool named {tool.name!r}, which the network "
                        f"adds to reach agent {peer.name!r}. Rename the tool."
                    )
                tools[tool.name] = tool
        schemas = [t.openai_schema() for t in tools.values()]
        bound = model.bind_tools(schemas) if schemas else model
        prompt = agent.instructions
        if agent.output_type is not None:
            prompt = f"{prompt}\n\n{_output_instructions(agent.output_type)}".strip()
        return cls(
            agent=agent,
            model=model,
            bound=bound,
            tools=tools,
            system_prompt=prompt,
            model_name=describe_model(model)[0],
            provider_name=provider_of(model),
            model_node=agent.name,
            tool_node=f"{agent.name} tools",
            handoffs=handoffs,
            delegates=delegates,
        )


def _slug(agent_name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "_", agent_name.lower()).strip("_")


def handoff_tool_name(agent_name: str) -> str:
    """``transfer_to_<agent>``, with the name reduced to the characters tool names allow."""
    return f"transfer_to_{_slug(agent_name)}"


def ask_tool_name(agent_name: str) -> str:
    """``ask_<agent>``, with the name reduced to the characters tool names allow."""
    return f"ask_{_slug(agent_name)}"


def _handoff_tool(peer: Agent) -> Tool:
    target = peer.name

    async def transfer(reason: str = "") -> str:
        """Hand over control.

        Args:
            reason: Why the other agent should take over.
        """
        return f"Transferred to {target}."

    return tool_from(
        transfer,
        name=handoff_tool_name(target),
        description=f"Hand the conversation over to {target}: {peer.profile}".strip(),
        timeout=None,  # returns at once: no timer needed
    )


def _ask_tool(peer: Agent) -> Tool:
    target = peer.name

    async def ask(task: str) -> str:
        """Delegate a task.

        Args:
            task: The task, stated fully: the other agent sees only this text.
        """
        # The tool step runs delegations as graph tasks; reaching this is a bug.
        raise RuntimeError(f"ask_{target} must be run by the network's tool step")

    return tool_from(
        ask,
        name=ask_tool_name(target),
        description=f"Ask {target} to do a task and get its answer back; you keep control. "
        f"{target}: {peer.profile}".strip(),
    )


def make_model_node(spec: CompiledAgent, retry: RetryPolicy, *, ends_run: bool = True) -> Node:
    """The model step: call the agent's model on the conversation, streaming tokens.

    ``ends_run``: an answer without tool calls finishes the run (no per-turn router
    follows), so the step records ``stop_reason="completed"`` with it.
    """
    name = spec.agent.name

    async def model_step(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        ctx = runtime.context
        emitter = ctx.emitter
        update: dict[str, Any] = {}
        if state.get("rounds", 0) == 0:
            ctx.emit("agent.started", {"model": spec.model_name}, agent=name)
            update["path"] = [name]
            update["turns"] = 1
            if state.get("active") != name:
                update["active"] = name
        prompt: list[BaseMessage] = list(state["messages"])
        if spec.agent.memory is not None:
            recalled = await memory_nodes.recall(spec, prompt, ctx)
            if recalled is not None:
                prompt.insert(0, recalled)
        if spec.system_prompt:
            prompt.insert(0, SystemMessage(spec.system_prompt))

        async def on_delta(text: str) -> None:
            await emitter.room()  # backpressure: wait while the consumer is far behind
            ctx.emit("message.delta", {"delta": text}, agent=name)

        tracer = emitter.tracer
        try:
            chat = (
                tracer.chat(
                    agent=name,
                    path=ctx.path,
                    model=spec.model_name,
                    provider=spec.provider_name,
                    prompt=prompt,
                )
                if tracer is not None
                else nullcontext(None)
            )
            with chat as span:
                message = await stream_chat(
                    spec.bound,
                    prompt,
                    base_model=spec.model,
                    on_delta=on_delta if emitter.active else None,
                    retry=retry,
                )
                if span is not None:
                    span.done(message)
        except ModelProviderError as exc:
            raise exc.within(agent=name) from exc
        usage = _usage(message)
        new_messages: list[BaseMessage] = [message]
        if not (message.tool_calls or message.invalid_tool_calls):
            if spec.agent.output_type is not None:
                try:
                    parsed, message, extra = await _parse_output(spec, prompt, message, retry)
                except ModelProviderError as exc:
                    raise exc.within(agent=name) from exc
                new_messages = [*new_messages[:-1], *extra, message]
                update["parsed"] = parsed.model_dump(mode="json")
                if extra:
                    for key, value in _usage(message).items():
                        usage[key] = usage.get(key, 0) + value
            update["output"] = message.text
            if ends_run:
                update["stop_reason"] = "completed"
        ctx.emit(
            "message.completed",
            {
                "content": message.text,
                "tool_calls": [
                    {"name": c["name"], "args": c["args"], "id": c["id"]}
                    for c in message.tool_calls
                ],
            },
            agent=name,
        )
        if "output" in update:
            ctx.emit("agent.completed", {"output": message.text}, agent=name)
            if spec.agent.memory is not None:
                info = runtime.execution_info
                task = info.task_id if info is not None else str(message.id)
                await memory_nodes.remember(spec, list(state["messages"]), message.text, ctx, task)
            if ctx.turns is not None:
                ctx.turns.finish(name)
        update["messages"] = new_messages
        update["usage"] = usage
        return update

    return model_step


async def _parse_output(
    spec: CompiledAgent, prompt: list[BaseMessage], message: AIMessage, retry: RetryPolicy
) -> tuple[BaseModel, AIMessage, list[BaseMessage]]:
    """Parse the final answer into ``output_type``, with one corrective retry."""
    output_type = spec.agent.output_type
    assert output_type is not None
    try:
        return output_type.model_validate_json(_strip_fences(message.text)), message, []
    except ValidationError as first:
        correction = HumanMessage(
            f"Your answer does not match the required JSON schema: {first.errors()[:3]}. "
            "Reply with only the corrected JSON object."
        )
        retried = await stream_chat(
            spec.model, [*prompt, message, correction], base_model=spec.model, retry=retry
        )
        try:
            parsed = output_type.model_validate_json(_strip_fences(retried.text))
        except ValidationError as second:
            name, endpoint = describe_model(spec.model)
            raise ModelProviderError(
                f"Model {name!r} answered twice with output that does not match "
                f"{output_type.__name__}: {second}. Use a model that follows JSON "
                "instructions, or loosen the output_type.",
                model=name,
                endpoint=endpoint,
                agent=spec.agent.name,
            ) from second
        return parsed, retried, [message, correction]


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()


def _output_instructions(output_type: type[BaseModel]) -> str:
    import json

    schema = json.dumps(output_type.model_json_schema())
    return (
        "When you give your final answer, reply with only a JSON object that matches this "
        f"JSON schema, and nothing else:\n{schema}"
    )


def _usage(message: AIMessage) -> dict[str, int]:
    meta = message.usage_metadata
    if not meta:
        return {}
    return {
        "input_tokens": meta.get("input_tokens", 0),
        "output_tokens": meta.get("output_tokens", 0),
        "total_tokens": meta.get("total_tokens", 0),
    }
