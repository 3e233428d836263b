"""The tool step of an agent turn: tools, handoffs and delegations.

A model message may call ordinary tools, hand off (``transfer_to_<agent>``) and delegate
(``ask_<agent>``). Delegations run as their own graph tasks (see `graph_agents.nodes.delegate`),
so the step runs in two passes when the message delegates: the first only sends the
delegations out; when their answers are in, the second runs the other tools and returns
every tool result to the model at once.

Before any tool body runs, the approval gate (`graph_agents.nodes.approval`) pauses the
run for the calls that need a human's approval. When the message calls several tools,
each finished call is recorded in the tool-call journal at once, so a step that dies
midway and is resumed runs only the calls that had not finished.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, InvalidToolCall, ToolCall, ToolMessage

from .._secrets import SecretRef, is_secret
from .._tool_types import ToolEvents, tool_events
from ..exceptions import ToolError
from ..state import SharedState, StateOp, apply_state_ops
from ..tools import (
    AGENT_TIMEOUT,
    Tool,
    ToolArgumentsError,
    ToolCallError,
    ToolContext,
    render_tool_result,
)
from .approval import await_decisions, call_key, decided_content, pending_requests
from .context import RunContext
from .workflow_steps import to_jsonable

if TYPE_CHECKING:
    from langgraph.runtime import Runtime

    from .agent import CompiledAgent
    from .schema import GraphState

__all__ = ["best_output", "make_tool_node"]

logger: logging.Logger = logging.getLogger("graph_agents.nodes")

_Outcome = tuple[ToolMessage, list[StateOp], dict[str, Any] | None]


def make_tool_node(
    spec: CompiledAgent,
) -> Callable[[GraphState, Runtime[RunContext]], Awaitable[dict[str, Any]]]:
    """The tool step: run every tool call of the last model message, concurrently.

    Each call sees the shared state as the step began and records its own writes; the
    writes are applied in tool-call order, so the result does not depend on timing.
    """
    name = spec.agent.name
    max_rounds = spec.agent.max_tool_rounds

    async def tool_step(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        ctx = runtime.context
        message = state["messages"][-1]
        assert isinstance(message, AIMessage)
        shared = state.get("shared") or {}
        finished = state.get("delegations") or {}
        waiting = [
            c
            for c in message.tool_calls
            if c["name"] in spec.delegates
            and c["id"] not in finished
            and isinstance(c["args"].get("task"), str)
        ]
        if waiting and ctx.depth < ctx.max_depth:
            return {"pending": [_payload(spec, call, state, ctx) for call in waiting]}

        calls: list[ToolCall | InvalidToolCall] = [*message.tool_calls, *message.invalid_tool_calls]
        info = runtime.execution_info
        task_id = info.task_id if info is not None else str(message.id)
        requests = pending_requests(
            spec, calls, task_id=task_id, thread_id=ctx.thread_id, step=ctx.step
        )
        decisions = await_decisions(list(requests.values())) if requests else {}
        handoff = next((c for c in message.tool_calls if c["name"] in spec.handoffs), None)
        keys = [call_key(ctx.thread_id, task_id, c.get("id") or "", i) for i, c in enumerate(calls)]
        runs = [
            i
            for i, call in enumerate(calls)
            if _runs_body(spec, call) and decisions.get(_id(requests, i), {}).get("approve", True)
        ]
        # A step with one body to run has nothing finished to lose if it dies midway.
        journal = ctx.calls if len(runs) > 1 else None
        done = await journal.finished([keys[i] for i in runs]) if journal is not None else {}

        async def one(index: int, call: ToolCall | InvalidToolCall) -> _Outcome:
            if keys[index] in done:
                reply, ops, record = done[keys[index]]
                return reply, [tuple(op) for op in ops], record
            request = requests.get(index)
            outcome = await _run_call(
                spec,
                call,
                SharedState(shared),
                ctx,
                handoff=handoff,
                finished=finished,
                key=keys[index],
                request=request,
                decision=decisions.get(request["id"]) if request else None,
            )
            if journal is not None and index in runs:
                await journal.record(keys[index], outcome)
            return outcome

        outcomes = await asyncio.gather(*(one(i, call) for i, call in enumerate(calls)))
        ops: list[StateOp] = [op for outcome in outcomes for op in outcome[1]]
        errors = [outcome[2] for outcome in outcomes if outcome[2] is not None]
        rounds = state.get("rounds", 0) + 1
        update: dict[str, Any] = {
            "messages": [outcome[0] for outcome in outcomes],
            "rounds": rounds,
        }
        if state.get("pending"):
            update["pending"] = []
        if ops:
            update["shared"] = ops
            if ctx.depth:
                update["journal"] = ops
            if ctx.emitter.active:
                ctx.emit("state.updated", state_change(shared, ops), agent=name)
        if errors:
            update["tool_errors"] = errors
        if (handoff is not None or rounds >= max_rounds) and ctx.turns is not None:
            ctx.turns.finish(name)
        if handoff is not None:
            target = spec.handoffs[handoff["name"]]
            ctx.emit("handoff", {"from": name, "to": target}, agent=name)
            ctx.emit("agent.completed", {"output": message.text, "handoff": target}, agent=name)
            if state.get("turns", 0) >= ctx.max_iterations:
                update["stop_reason"] = "max_iterations"
                update["output"] = best_output(state, message)
            else:
                update["active"] = target
                update["rounds"] = 0
        elif rounds >= max_rounds:
            logger.warning("Agent %r stopped after %d tool rounds", name, rounds)
            update["stop_reason"] = "max_tool_rounds"
            update["output"] = best_output(state, message)
            ctx.emit(
                "agent.completed",
                {"output": update["output"], "stop_reason": "max_tool_rounds"},
                agent=name,
            )
        return update

    return tool_step


def state_change(before: Mapping[str, Any], ops: list[StateOp]) -> dict[str, Any]:
    """The data of a ``state.updated`` event: the keys ``ops`` changed, their new values
    as JSON (secrets masked) and the keys they deleted."""
    after = apply_state_ops(before, ops)
    keys = sorted({op[1] for op in ops})
    return {
        "keys": keys,
        "values": {key: _shown(after[key]) for key in keys if key in after},
        "deleted": [key for key in keys if key not in after],
    }


def _shown(value: Any) -> Any:
    return "**********" if is_secret(value) or isinstance(value, SecretRef) else to_jsonable(value)


def _payload(
    spec: CompiledAgent, call: ToolCall, state: GraphState, ctx: RunContext
) -> dict[str, Any]:
    target = spec.delegates[call["name"]]
    ctx.emit(
        "tool.started",
        {"tool": call["name"], "call_id": call["id"], "arguments": call["args"]},
        agent=spec.agent.name,
    )
    return {
        "mode": "delegate",
        "agent": target,
        "caller": spec.agent.name,
        "call_id": call["id"],
        "task": call["args"]["task"],
        "shared": dict(state.get("shared") or {}),
        "turns": state.get("turns", 0),
    }


async def _run_call(
    spec: CompiledAgent,
    call: ToolCall | InvalidToolCall,
    state: SharedState,
    ctx: RunContext,
    *,
    handoff: ToolCall | None,
    finished: dict[str, dict[str, Any]],
    key: str,
    request: dict[str, Any] | None,
    decision: dict[str, Any] | None,
) -> _Outcome:
    agent = spec.agent.name
    tool_name = call.get("name") or ""
    call_id = call.get("id") or ""
    delegated = finished.get(call_id) if tool_name in spec.delegates else None
    started = time.perf_counter()
    if delegated is None:
        ctx.emit(
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
    elif delegated is not None:
        if delegated.get("error"):
            error = f"Error: {delegated['error']}"
        else:
            content = str(delegated.get("output", ""))
    elif tool_name in spec.delegates:
        args = call.get("args")
        if not isinstance(args, dict) or not isinstance(args.get("task"), str):
            error = (
                f"Error: {tool_name!r} needs one argument, 'task', a string that states the "
                f"task in full; got {args!r}."
            )
        else:
            error = (
                f"Error: delegation is limited to {_levels(ctx.max_depth)} and this agent is "
                f"already {_levels(ctx.depth)} deep; do the task yourself instead of "
                f"{tool_name!r}."
            )
    elif tool_name in spec.handoffs and call is not handoff:
        chosen = spec.handoffs[handoff["name"]] if handoff else "another agent"
        error = (
            f"Error: only one handoff per turn; control already goes to {chosen!r}, "
            f"so {tool_name!r} was ignored."
        )
    elif (tool := spec.tools.get(tool_name)) is None:
        known = ", ".join(repr(t) for t in spec.tools) or "none"
        error = f"Error: there is no tool named {tool_name!r}. Available tools: {known}."
    elif (
        request is not None
        and decision is not None
        and (tool.kind == "approval" or not decision.get("approve"))
    ):
        content = decided_content(request, decision, None)
    else:
        limit = spec.agent.tool_timeout if tool.timeout is AGENT_TIMEOUT else tool.timeout
        try:
            given = call.get("args")
            args = dict(given) if isinstance(given, dict) else {}
            if decision is not None and decision.get("edits"):
                args.update(decision["edits"])
            context = await _context(tool, ctx, agent, call_id, key) if tool.takes_context else None
            invocation = tool.invoke(args, state, context)
            # A composite tool reports its stages as tool events of this call.
            token = tool_events.set(_stage_events(ctx, agent, call_id))
            tracer = ctx.emitter.tracer
            try:
                # The tool's own spans nest under its execute_tool span.
                with tracer.tool_scope(call_id) if tracer is not None else nullcontext():
                    if limit is None:
                        result = await invocation
                    else:
                        # asyncio.timeout, unlike wait_for, needs no extra task per call.
                        async with asyncio.timeout(limit):
                            result = await invocation
            finally:
                tool_events.reset(token)
            content = render_tool_result(result)
            if request is not None and decision is not None:
                content = decided_content(request, decision, content)
        except TimeoutError:
            timed_out = ToolError(
                f"Tool {tool_name!r} did not finish within {limit:g} s and was cancelled.",
                tool=tool_name,
            )
            error = f"Error: {timed_out} Try a smaller request, or another approach."
        except ToolArgumentsError as exc:
            error = f"Error: {exc}"
        except ToolCallError as exc:
            cause = exc.__cause__
            error = (
                f"Error: tool {tool_name!r} raised {type(cause).__name__}: "
                f"{str(cause).rstrip('.')}. Fix the arguments or try another approach."
            )
    record: dict[str, Any] | None = None
    if error is not None:
        content = error
        record = {"agent": agent, "tool": tool_name, "call_id": call_id, "error": error}
        logger.warning(
            "Tool %r of agent %r failed; the error went back to the model", tool_name, agent
        )
    duration = (
        float(delegated.get("duration_ms", 0.0))
        if delegated is not None
        else (time.perf_counter() - started) * 1000
    )
    ctx.emit(
        "tool.completed",
        {
            "tool": tool_name,
            "call_id": call_id,
            "result": content,
            "error": error is not None,
            "duration_ms": round(duration, 3),
        },
        agent=agent,
    )
    message = ToolMessage(
        content=content,
        tool_call_id=call_id,
        name=tool_name,
        status="error" if error else "success",
    )
    return message, state._take_ops(), record


def _stage_events(ctx: RunContext, agent: str, call_id: str) -> ToolEvents:
    def emit(type: str, data: dict[str, Any]) -> None:
        # A stage's own call id: the composite call's, with the stage index.
        stage = {"call_id": f"{call_id}:{data['stage']}", "parent_call_id": call_id}
        ctx.emit(type, {**data, **stage}, agent=agent)  # type: ignore[arg-type]

    return emit


async def _context(tool: Tool, ctx: RunContext, agent: str, call_id: str, key: str) -> ToolContext:
    attempt = await ctx.calls.begin(key) if ctx.calls is not None else 1
    return ToolContext(
        thread_id=ctx.thread_id,
        agent=agent,
        tool=tool.name,
        tool_call_id=call_id,
        attempt=attempt,
        idempotency_key=key,
    )


def _runs_body(spec: CompiledAgent, call: ToolCall | InvalidToolCall) -> bool:
    """Whether the call runs a tool body (not a handoff, delegation or approval)."""
    if call.get("type") == "invalid_tool_call":
        return False
    tool = spec.tools.get(call.get("name") or "")
    name = call.get("name") or ""
    return (
        tool is not None
        and tool.kind != "approval"
        and name not in spec.handoffs
        and name not in spec.delegates
    )


def _id(requests: dict[int, dict[str, Any]], index: int) -> str:
    request = requests.get(index)
    return request["id"] if request is not None else ""


def _levels(count: int) -> str:
    return f"{count} level" if count == 1 else f"{count} levels"


def best_output(state: GraphState, message: AIMessage) -> str:
    """The latest non-empty answer text: the message's, else the run's last output."""
    if message.text:
        return message.text
    for earlier in reversed(state["messages"]):
        if isinstance(earlier, AIMessage) and earlier.text:
            return earlier.text
    return state.get("output", "")
