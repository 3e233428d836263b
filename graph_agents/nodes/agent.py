"""The two nodes of an agent turn: the model step and the tool step.

They are separate graph nodes so that each is checkpointed on its own: a failure or an
interrupt inside a tool never re-runs the model call that asked for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from pydantic import BaseModel, ValidationError

from ..exceptions import ConfigurationError, ModelProviderError
from ..models import RetryPolicy, describe_model, stream_chat
from ..state import SharedState, StateOp
from ..tools import Tool, ToolArgumentsError, ToolCallError, render_tool_result, tool_from
from .context import RunContext

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable
    from langgraph.runtime import Runtime

    from ..agent import Agent
    from .schema import GraphState

__all__ = ["CompiledAgent", "handoff_tool_name", "make_model_node", "make_tool_node"]

logger = logging.getLogger("graph_agents.nodes")

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
    model_node: str
    tool_node: str
    handoffs: dict[str, str]
    """Handoff tool name -> the agent it transfers control to."""

    @classmethod
    def build(cls, agent: Agent, model: BaseChatModel, peers: Sequence[Agent]) -> CompiledAgent:
        handoffs = {
            handoff_tool_name(peer.name): peer.name for peer in peers if peer.name != agent.name
        }
        tools = {t.name: t for t in agent.tool_list}
        for tool_name, target in handoffs.items():
            if tool_name in tools:
                raise ConfigurationError(
                    f"Agent {agent.name!r} has a tool named {tool_name!r}, which is the handoff "
                    f"tool to agent {target!r}. Rename the tool."
                )
            tools[tool_name] = _handoff_tool(tool_name, peers, target)
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
            model_node=agent.name,
            tool_node=f"{agent.name} tools",
            handoffs=handoffs,
        )


def handoff_tool_name(agent_name: str) -> str:
    """``transfer_to_<agent>``, with the name reduced to the characters tool names allow."""
    return "transfer_to_" + re.sub(r"[^a-z0-9_-]+", "_", agent_name.lower()).strip("_")


def _handoff_tool(tool_name: str, peers: Sequence[Agent], target: str) -> Tool:
    profile = next(p.profile for p in peers if p.name == target)

    async def transfer(reason: str = "") -> str:
        return f"Transferred to {target}."

    return tool_from(
        transfer,
        name=tool_name,
        description=f"Hand the conversation over to {target}: {profile}".strip(),
    )


def make_model_node(spec: CompiledAgent, retry: RetryPolicy) -> Node:
    """The model step: call the agent's model on the conversation, streaming tokens."""
    name = spec.agent.name

    async def model_step(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        emitter = runtime.context.emitter
        update: dict[str, Any] = {}
        if state.get("rounds", 0) == 0:
            emitter.emit("agent.started", {"model": spec.model_name}, agent=name)
            update["path"] = [name]
            update["turns"] = 1
        prompt: list[BaseMessage] = list(state["messages"])
        if spec.system_prompt:
            prompt.insert(0, SystemMessage(spec.system_prompt))

        async def on_delta(text: str) -> None:
            emitter.emit("message.delta", {"delta": text}, agent=name)

        message = await stream_chat(
            spec.bound,
            prompt,
            base_model=spec.model,
            on_delta=on_delta if emitter.active else None,
            retry=retry,
        )
        usage = _usage(message)
        new_messages: list[BaseMessage] = [message]
        if not (message.tool_calls or message.invalid_tool_calls):
            if spec.agent.output_type is not None:
                parsed, message, extra = await _parse_output(spec, prompt, message, retry)
                new_messages = [*new_messages[:-1], *extra, message]
                update["parsed"] = parsed.model_dump(mode="json")
                for key, value in _usage(message).items():
                    usage[key] = usage.get(key, 0) + value
            update["output"] = message.text
            update["stop_reason"] = "completed"
        emitter.emit(
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
        if "stop_reason" in update:
            emitter.emit("agent.completed", {"output": message.text}, agent=name)
        update["messages"] = new_messages
        update["usage"] = usage
        return update

    return model_step


def make_tool_node(spec: CompiledAgent) -> Node:
    """The tool step: run every tool call of the last model message, concurrently.

    Each call sees the shared state as the step began and records its own writes; the
    writes are applied in tool-call order, so the result does not depend on timing.
    """
    name = spec.agent.name
    max_rounds = spec.agent.max_tool_rounds

    async def tool_step(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        ctx = runtime.context
        emitter = ctx.emitter
        message = state["messages"][-1]
        assert isinstance(message, AIMessage)
        shared = state.get("shared") or {}
        calls: list[ToolCall | InvalidToolCall] = [*message.tool_calls, *message.invalid_tool_calls]
        handoff = next((c for c in message.tool_calls if c["name"] in spec.handoffs), None)
        outcomes = await asyncio.gather(
            *(_run_call(spec, call, SharedState(shared), ctx, handoff=handoff) for call in calls)
        )
        ops: list[StateOp] = [op for outcome in outcomes for op in outcome[1]]
        errors = [outcome[2] for outcome in outcomes if outcome[2] is not None]
        rounds = state.get("rounds", 0) + 1
        update: dict[str, Any] = {
            "messages": [outcome[0] for outcome in outcomes],
            "rounds": rounds,
        }
        if ops:
            update["shared"] = ops
            emitter.emit("state.updated", {"keys": sorted({op[1] for op in ops})}, agent=name)
        if errors:
            update["tool_errors"] = errors
        if handoff is not None:
            target = spec.handoffs[handoff["name"]]
            emitter.emit("handoff", {"from": name, "to": target}, agent=name)
            emitter.emit("agent.completed", {"output": message.text, "handoff": target}, agent=name)
            if state.get("turns", 0) >= ctx.max_iterations:
                update["stop_reason"] = "max_iterations"
                update["output"] = _best_output(state, message)
            else:
                update["active"] = target
                update["rounds"] = 0
        elif rounds >= max_rounds:
            logger.warning("Agent %r stopped after %d tool rounds", name, rounds)
            update["stop_reason"] = "max_tool_rounds"
            update["output"] = _best_output(state, message)
            emitter.emit(
                "agent.completed",
                {"output": update["output"], "stop_reason": "max_tool_rounds"},
                agent=name,
            )
        return update

    return tool_step


async def _run_call(
    spec: CompiledAgent,
    call: ToolCall | InvalidToolCall,
    state: SharedState,
    ctx: RunContext,
    *,
    handoff: ToolCall | None,
) -> tuple[ToolMessage, list[StateOp], dict[str, Any] | None]:
    agent = spec.agent.name
    tool_name = call.get("name") or ""
    call_id = call.get("id") or ""
    ctx.emitter.emit(
        "tool.started",
        {"tool": tool_name, "call_id": call_id, "arguments": call.get("args")},
        agent=agent,
    )
    error: str | None = None
    content = ""
    if call.get("type") == "invalid_tool_call":
        error = (
            f"Error: the arguments for tool {tool_name!r} are not valid JSON "
            f"({call.get('error')}): {call.get('args')!r}. Call the tool again with "
            "its arguments as one JSON object that matches its schema."
        )
    elif tool_name in spec.handoffs and call is not handoff:
        error = (
            f"Error: only one handoff per turn; control already goes to "
            f"{spec.handoffs[handoff['name']] if handoff else '?'!r}, so {tool_name!r} was ignored."
        )
    elif (tool := spec.tools.get(tool_name)) is None:
        known = ", ".join(repr(t) for t in spec.tools) or "none"
        error = f"Error: there is no tool named {tool_name!r}. Available tools: {known}."
    else:
        try:
            args = call.get("args")
            result = await tool.invoke(args if isinstance(args, dict) else {}, state)
            content = render_tool_result(result)
        except ToolArgumentsError as exc:
            error = f"Error: {exc}"
        except ToolCallError as exc:
            cause = exc.__cause__
            error = (
                f"Error: tool {tool_name!r} raised {type(cause).__name__}: {cause}. "
                "Fix the arguments or try another approach."
            )
    record: dict[str, Any] | None = None
    if error is not None:
        content = error
        record = {"agent": agent, "tool": tool_name, "call_id": call_id, "error": error}
        logger.warning(
            "Tool %r of agent %r failed; the error went back to the model", tool_name, agent
        )
    ctx.emitter.emit(
        "tool.completed",
        {"tool": tool_name, "call_id": call_id, "result": content, "error": error is not None},
        agent=agent,
    )
    message = ToolMessage(
        content=content,
        tool_call_id=call_id,
        name=tool_name,
        status="error" if error else "success",
    )
    return message, state._take_ops(), record


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
                f"Agent {spec.agent.name!r}: model {name!r} answered twice with output that "
                f"does not match {output_type.__name__}: {second}. Use a model that follows "
                "JSON instructions, or loosen the output_type.",
                model=name,
                endpoint=endpoint,
            ) from second
        return parsed, retried, [message, correction]


def _best_output(state: GraphState, message: AIMessage) -> str:
    """The latest non-empty answer text: the message's, else the run's last output."""
    if message.text:
        return message.text
    for earlier in reversed(state["messages"]):
        if isinstance(earlier, AIMessage) and earlier.text:
            return earlier.text
    return state.get("output", "")


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
