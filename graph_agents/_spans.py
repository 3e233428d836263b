"""One run's spans, built from its events: see `graph_agents.tracing` for what they are.

A turn, a delegation or a tool call can start in one graph node and end in another (an
``ask_*`` call starts in the tool step, runs as its own task, and completes when the
tool step runs again), so spans are not context managers around Python calls: the run's
`RunTracer` opens and ends them as the run's events happen, and keeps the open ones by
lane (`graph_agents.events.Event.path`). Parents are explicit: a lane's spans nest under
the span of the work that opened the lane (the run, a workflow step, or the
``execute_tool ask_<agent>`` span of a delegation), so concurrency never mixes them up.
Model calls and tool bodies are in one coroutine each: `RunTracer.chat` spans a call,
and `RunTracer.tool_scope` makes a tool's span current while its body runs.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from . import _semconv as sc

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, BaseMessage
    from opentelemetry.trace import Span, Tracer


__all__ = ["ChatSpan", "RunTracer"]

_HANDLED = frozenset(
    {
        "agent.started",
        "agent.completed",
        "tool.started",
        "tool.completed",
        "route.decided",
        "step.started",
        "step.completed",
    }
)
"""The event types that open or end spans (the others pass through at once)."""


class RunTracer:
    """The spans of one run; fed by the run's `Emitter` (see the module docstring)."""

    def __init__(
        self,
        tracer: Tracer,
        *,
        kind: str,
        name: str,
        thread_id: str,
        run_id: str,
        capture: bool,
        link: Link | None,
    ):
        self.tracer = tracer
        self.kind = kind
        self.name = name
        self.thread_id = thread_id
        self.run_id = run_id
        self.capture = capture
        self._link = link
        self.run: Span | None = None
        self._steps: dict[str, Span] = {}
        self._agents: dict[tuple[str, str], Span] = {}
        self._tools: dict[str, Span] = {}
        self._routes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[int, list[int]] = {}
        """Span id -> [input, output] tokens summed from its model calls."""

    # -- the run -------------------------------------------------------------------

    def start_run(self, resumed: bool) -> None:
        """Open the run's span (before the graph runs)."""
        self.run = self.tracer.start_span(
            f"{sc.OP_INVOKE_WORKFLOW} {self.name}",
            kind=SpanKind.INTERNAL,
            links=[self._link] if self._link is not None else None,
            attributes={
                sc.OPERATION_NAME: sc.OP_INVOKE_WORKFLOW,
                sc.CONVERSATION_ID: self.thread_id,
                sc.RUN_ID: self.run_id,
                sc.RUN_KIND: self.kind,
                sc.RUN_RESUMED: resumed,
            },
        )

    @property
    def traceparent(self) -> str | None:
        """``<trace id>-<span id>`` of the run's span, for the checkpoints it writes."""
        if self.run is None:
            return None
        context = self.run.get_span_context()
        return f"{context.trace_id:032x}-{context.span_id:016x}"

    def end_run(self, *, stop_reason: str | None, error: BaseException | None) -> None:
        """End every span still open, then the run's: with ``error``, as failed."""
        for span in [*self._tools.values(), *self._agents.values(), *self._steps.values()]:
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            elif stop_reason is not None:
                span.set_attribute(sc.RUN_STOP_REASON, stop_reason)
            self._end(span)
        self._tools.clear()
        self._agents.clear()
        self._steps.clear()
        if self.run is None:
            return
        if error is not None:
            self._fail(self.run, error)
        elif stop_reason is not None:
            self.run.set_attribute(sc.RUN_STOP_REASON, stop_reason)
        self._end(self.run)

    # -- events --------------------------------------------------------------------

    def event(
        self,
        type: str,
        data: Mapping[str, Any],
        agent: str | None,
        path: Sequence[str],
        step: str | None,
    ) -> None:
        """Open or end the spans ``type`` concerns."""
        if type not in _HANDLED:
            return
        lane = "/".join(path)
        if type == "agent.started" and agent is not None:
            span = self._agent(lane, agent, path)
            route = self._routes.pop(f"{lane}|{agent}", None)
            if route is not None:
                span.add_event(sc.ROUTE_EVENT, route)
        elif type == "agent.completed" and agent is not None:
            turn = self._agents.pop((lane, agent), None)
            if turn is not None:
                span = turn
                if data.get("handoff"):
                    span.set_attribute(sc.HANDOFF_TO, str(data["handoff"]))
                self._end(span)
        elif type == "tool.started":
            self._tool_started(data, agent, lane, path)
        elif type == "tool.completed":
            self._tool_completed(data)
        elif type == "route.decided":
            self._route(data, lane)
        elif type == "step.started":
            self._step_started(data, path)
        elif type == "step.completed":
            step_span = self._steps.pop(str(data.get("step")), None)
            if step_span is not None:
                span = step_span
                if "branch" in data:
                    span.set_attribute(sc.STEP_BRANCH, str(data["branch"]))
                self._end(span)

    def _route(self, data: Mapping[str, Any], lane: str) -> None:
        chosen = data.get("agent")
        agents = chosen if isinstance(chosen, list) else [chosen] if chosen else []
        scores = data.get("scores") or {}
        for name in agents:
            attrs: dict[str, Any] = {
                sc.ROUTE_AGENT: name,
                sc.ROUTE_ROUTER: str(data.get("router") or ""),
                sc.ROUTE_LOW_CONFIDENCE: bool(data.get("low_confidence")),
                sc.ROUTE_FELL_BACK: bool(data.get("fell_back")),
            }
            if name in scores:
                attrs[sc.ROUTE_SCORE] = float(scores[name])
            lanes = f"{lane}/branch:{name}".lstrip("/") if len(agents) > 1 else lane
            self._routes[f"{lanes}|{name}"] = attrs
        if not agents and self.run is not None:
            self.run.add_event(
                sc.ROUTE_EVENT,
                {sc.ROUTE_ROUTER: str(data.get("router") or ""), sc.ROUTE_AGENT: ""},
            )

    def _step_started(self, data: Mapping[str, Any], path: Sequence[str]) -> None:
        step_id = str(data.get("step"))
        if step_id in self._steps:
            return
        kind = str(data.get("kind") or "")
        # A nested step's id extends its parent's (``s1_parallel`` -> ``s1_parallel_1_x``).
        enclosing = [key for key in self._steps if step_id.startswith(f"{key}_")]
        parent = (
            trace.set_span_in_context(self._steps[max(enclosing, key=len)])
            if enclosing
            else self._parent(path[:-1])
        )
        self._steps[step_id] = self.tracer.start_span(
            f"{sc.OP_STEP} {step_id}",
            context=parent,
            attributes={
                sc.OPERATION_NAME: sc.OP_STEP,
                sc.STEP_ID: step_id,
                sc.STEP_KIND: kind,
                sc.CONVERSATION_ID: self.thread_id,
            },
        )

    def _tool_started(
        self, data: Mapping[str, Any], agent: str | None, lane: str, path: Sequence[str]
    ) -> None:
        call_id = str(data.get("call_id") or "")
        tool = str(data.get("tool") or "")
        parent_call = data.get("parent_call_id")
        if parent_call and str(parent_call) in self._tools:
            parent = trace.set_span_in_context(self._tools[str(parent_call)])
        elif agent is not None:
            parent = trace.set_span_in_context(self._agent(lane, agent, path))
        else:
            parent = self._parent(path)
        attrs: dict[str, Any] = {
            sc.OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.TOOL_NAME: tool,
            sc.TOOL_CALL_ID: call_id,
            sc.TOOL_TYPE: "function",
            sc.CONVERSATION_ID: self.thread_id,
        }
        if agent is not None:
            attrs[sc.AGENT_NAME] = agent
        if self.capture:
            attrs[sc.TOOL_CALL_ARGUMENTS] = _json(data.get("arguments"))
        self._tools[call_id] = self.tracer.start_span(
            f"{sc.OP_EXECUTE_TOOL} {tool}", context=parent, attributes=attrs
        )

    def _tool_completed(self, data: Mapping[str, Any]) -> None:
        span = self._tools.pop(str(data.get("call_id") or ""), None)
        if span is None:
            return
        if self.capture:
            span.set_attribute(sc.TOOL_CALL_RESULT, str(data.get("result") or ""))
        if data.get("error"):
            span.set_attribute(sc.ERROR_TYPE, "ToolError")
            detail = str(data.get("result") or "") if self.capture else "the tool call failed"
            span.set_status(Status(StatusCode.ERROR, detail))
        self._end(span)

    # -- model calls and tool bodies -----------------------------------------------

    def chat(
        self,
        *,
        agent: str,
        path: Sequence[str],
        model: str,
        provider: str,
        prompt: Sequence[BaseMessage],
    ) -> ChatSpan:
        """Span one model call of ``agent`` (CLIENT): use it as ``with ... as span``; it
        records the exception when the call raises."""
        lane = "/".join(path)
        turn = self._agent(lane, agent, path)
        attrs: dict[str, Any] = {
            sc.OPERATION_NAME: sc.OP_CHAT,
            sc.REQUEST_MODEL: model,
            sc.PROVIDER_NAME: provider,
            sc.AGENT_NAME: agent,
            sc.CONVERSATION_ID: self.thread_id,
        }
        if self.capture:
            attrs[sc.INPUT_MESSAGES] = _messages(prompt)
        span = self.tracer.start_span(
            f"{sc.OP_CHAT} {model}",
            context=trace.set_span_in_context(turn),
            kind=SpanKind.CLIENT,
            attributes=attrs,
        )
        return ChatSpan(span, self, turn)

    @contextmanager
    def tool_scope(self, call_id: str) -> Iterator[None]:
        """Make the span of tool call ``call_id`` current while its body runs."""
        span = self._tools.get(call_id)
        if span is None:
            yield
            return
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            otel_context.detach(token)

    # -- internals -----------------------------------------------------------------

    def _agent(self, lane: str, agent: str, path: Sequence[str]) -> Span:
        """The open span of ``agent``'s turn in ``lane``, opened if it is not (a run that
        resumes mid-turn)."""
        span = self._agents.get((lane, agent))
        if span is None:
            attrs: dict[str, Any] = {
                sc.OPERATION_NAME: sc.OP_INVOKE_AGENT,
                sc.AGENT_NAME: agent,
                sc.CONVERSATION_ID: self.thread_id,
            }
            if lane:  # a top-level turn has none
                attrs[sc.LANE] = lane
            span = self._agents[(lane, agent)] = self.tracer.start_span(
                f"{sc.OP_INVOKE_AGENT} {agent}",
                context=self._parent(path),
                kind=SpanKind.INTERNAL,
                attributes=attrs,
            )
        return span

    def _parent(self, path: Sequence[str]) -> otel_context.Context:
        """The context spans of lane ``path`` nest in: the work that opened the lane."""
        for depth in range(len(path), 0, -1):
            segment = path[depth - 1]
            kind, _, key = segment.partition(":")
            if kind == "ask" and key in self._tools:
                return trace.set_span_in_context(self._tools[key])
            if kind == "step" and key in self._steps:
                return trace.set_span_in_context(self._steps[key])
        if self.run is not None:
            return trace.set_span_in_context(self.run)
        return otel_context.Context()

    def add_tokens(self, span: Span, input_tokens: int, output_tokens: int) -> None:
        """Count a model call's tokens towards ``span`` (its turn) and the run."""
        for target in (span, self.run):
            if target is None:
                continue
            totals = self._tokens.setdefault(id(target), [0, 0])
            totals[0] += input_tokens
            totals[1] += output_tokens

    def _end(self, span: Span) -> None:
        totals = self._tokens.pop(id(span), None)
        if totals is not None:
            span.set_attributes(
                {sc.USAGE_INPUT_TOKENS: totals[0], sc.USAGE_OUTPUT_TOKENS: totals[1]}
            )
        span.end()

    def _fail(self, span: Span, error: BaseException) -> None:
        span.set_attribute(sc.ERROR_TYPE, type(error).__qualname__)
        # The exception's message may quote content (a prompt, a tool's output): it goes
        # in only when content is captured; its type always does.
        detail = str(error) if self.capture else type(error).__name__
        attributes: dict[str, Any] = {
            "exception.type": f"{type(error).__module__}.{type(error).__qualname__}",
            "exception.message": detail,
            "exception.escaped": True,
        }
        if self.capture:
            attributes["exception.stacktrace"] = "".join(traceback.format_exception(error))
        span.add_event("exception", attributes)
        span.set_status(Status(StatusCode.ERROR, detail))


class ChatSpan:
    """An open ``chat`` span: `done` records the answer's usage (and content); leaving
    the ``with`` block ends it (failed, when an exception leaves it)."""

    def __init__(self, span: Span, tracer: RunTracer, turn: Span):
        self.span = span
        self._tracer = tracer
        self._turn = turn

    def __enter__(self) -> ChatSpan:
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if error is not None:
            self._tracer._fail(self.span, error)
        self._tracer._end(self.span)

    def done(self, message: AIMessage) -> None:
        """Record the model's answer: token usage, the response model, and (when content
        is captured) the message."""
        attrs: dict[str, Any] = {}
        usage: Mapping[str, Any] = message.usage_metadata or {}
        if usage:
            inputs = int(usage.get("input_tokens", 0) or 0)
            outputs = int(usage.get("output_tokens", 0) or 0)
            attrs[sc.USAGE_INPUT_TOKENS] = inputs
            attrs[sc.USAGE_OUTPUT_TOKENS] = outputs
            self._tracer.add_tokens(self._turn, inputs, outputs)
        model = (message.response_metadata or {}).get("model_name")
        if isinstance(model, str):
            attrs[sc.RESPONSE_MODEL] = model
        if self._tracer.capture:
            attrs[sc.OUTPUT_MESSAGES] = _messages([message])
        if attrs:
            self.span.set_attributes(attrs)


def _messages(messages: Sequence[BaseMessage]) -> str:
    """Messages as the GenAI conventions' JSON: role and text parts (and tool calls)."""
    roles = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
    out = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        if message.text:
            parts.append({"type": "text", "content": message.text})
        for call in getattr(message, "tool_calls", None) or []:
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": call["name"],
                    "arguments": call.get("args"),
                }
            )
        out.append({"role": roles.get(message.type, message.type), "parts": parts})
    return json.dumps(out, ensure_ascii=False, default=str)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
