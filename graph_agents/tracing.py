"""Tracing: OpenTelemetry spans of every run, and `TraceRecord`s for ``get_traces()``.

Every run is traced, following the OpenTelemetry GenAI semantic conventions
(`graph_agents._semconv` holds the names):

- ``invoke_workflow {network|workflow}``: the run (kind INTERNAL), with
  ``gen_ai.conversation.id`` (the thread); a resumed run links to the run it continues;
- ``step {id}``: a workflow step, under the run;
- ``invoke_agent {agent}``: an agent's turn (INTERNAL), under the run, its step, or the
  ``execute_tool ask_<agent>`` span of the delegation that asked it; the routing decision
  that chose the agent is an event on it (``graph_agents.route.decided``);
- ``chat {model}``: each model call (CLIENT), with the model, the provider and the
  token usage;
- ``execute_tool {tool}``: each tool call, with its name and call id; code inside the tool
  runs with it as the current span, so your own spans nest under it.

**Where spans go.** ``create_network(tracer_provider=...)`` (or ``create_workflow``) takes
a provider; otherwise the global one (`opentelemetry.trace.set_tracer_provider`, or
`configure_tracing`). With neither, runs are traced into a private provider of this
process that only feeds ``get_traces()``, nothing is exported. ``tracing=False`` turns
spans off for a network, at the cost of one check per event.

**Content.** Prompts, answers, tool arguments and results stay out of spans unless
``capture_content=True`` (or the environment sets
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``); secrets (`SecretStr`
values, API keys) never go in, opted in or not.

**Trace records.** `TraceRecorder` is a span processor holding the latest
`MAX_RECORDS` finished spans of graph_agents (runs, steps, agents, model calls and tools)
as `TraceRecord`s; ``network.get_traces(thread_id=None)`` reads the records of that
network's runs.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import StatusCode

from . import _semconv as sc

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "MAX_RECORDS",
    "TraceRecord",
    "TraceRecorder",
    "capture_content_from_env",
    "configure_tracing",
    "recorder_for",
]

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""Set to ``true`` to put message and tool content into spans (the standard variable)."""

MAX_RECORDS = 10_000
"""The most `TraceRecord`s one `TraceRecorder` keeps (the oldest go first)."""

SCOPE = "graph_agents"
"""The instrumentation scope name of graph_agents' spans."""


@dataclass(frozen=True)
class TraceRecord:
    """One finished span of a run, as ``get_traces()`` returns it."""

    name: str
    """The span name, e.g. ``"invoke_agent Researcher"``."""
    operation: str
    """``invoke_workflow``, ``step``, ``invoke_agent``, ``chat`` or ``execute_tool``."""
    agent: str | None
    """The agent (for a run, the network or workflow name)."""
    duration: float
    """Milliseconds."""
    tokens: int
    """Input plus output tokens (model calls; an agent's turn and a run sum theirs)."""
    status: str
    """``"ok"`` or ``"error"``."""
    start: float
    """Seconds since the epoch."""
    parent: str | None
    """The parent span's name (``None`` for a run)."""
    thread_id: str | None
    """The conversation thread."""
    run_id: str | None
    span_id: str
    parent_span_id: str | None
    attributes: dict[str, Any] = field(default_factory=dict, repr=False)


class TraceRecorder(SpanProcessor):
    """A span processor keeping the latest `MAX_RECORDS` finished spans of graph_agents
    (other instrumentation's spans are ignored), read as `TraceRecord`s. Thread-safe.

    Ending a span only appends it to a bounded deque; records are built when read, so a
    run pays almost nothing for them."""

    def __init__(self, max_records: int = MAX_RECORDS):
        self._spans: deque[_Kept] = deque(maxlen=max_records)
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope
        if scope is None or scope.name != SCOPE or span.context is None:
            return
        # What a record needs, not the span: the SDK's span objects (events, links,
        # resource) would hold several times the memory.
        self._spans.append(  # deque.append is atomic
            _Kept(
                span.name,
                dict(span.attributes or {}),
                span.start_time or 0,
                span.end_time or span.start_time or 0,
                span.context.span_id,
                span.parent.span_id if span.parent is not None else None,
                span.context.trace_id,
                span.status.status_code is StatusCode.ERROR,
            )
        )

    def records(
        self, *, run_ids: Iterable[str] | None = None, thread_id: str | None = None
    ) -> list[TraceRecord]:
        """The records kept, by start time; only those of ``run_ids`` and ``thread_id``
        when given."""
        with self._lock:
            spans = list(self._spans)
        names = {s.span_id: s.name for s in spans}
        # Every span of a run shares its trace; the run's own span names the run id.
        runs = {s.trace_id: _str(s.attributes.get(sc.RUN_ID)) for s in spans if s.parent is None}
        found = [_record(s, names, runs) for s in spans]
        found.sort(key=lambda r: r.start)
        if run_ids is not None:
            wanted = set(run_ids)
            found = [r for r in found if r.run_id in wanted]
        if thread_id is not None:
            found = [r for r in found if r.thread_id == thread_id]
        return found

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._spans.clear()

    def shutdown(self) -> None:
        """Nothing to release (the span processor protocol)."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered (the span processor protocol)."""
        return True


class _Kept(NamedTuple):
    """A finished span, as much of it as a `TraceRecord` needs."""

    name: str
    attributes: dict[str, Any]
    start: int
    end: int
    span_id: int
    parent: int | None
    trace_id: int
    error: bool


def _record(span: _Kept, names: dict[int, str], runs: dict[int, str | None]) -> TraceRecord:
    attrs = span.attributes
    operation = str(attrs.get(sc.OPERATION_NAME, span.name.split(" ", 1)[0]))
    agent = attrs.get(sc.AGENT_NAME) or (
        span.name.split(" ", 1)[1] if operation == sc.OP_INVOKE_WORKFLOW else None
    )
    return TraceRecord(
        name=span.name,
        operation=operation,
        agent=str(agent) if agent is not None else None,
        duration=round((span.end - span.start) / 1e6, 3),
        tokens=_int(attrs.get(sc.USAGE_INPUT_TOKENS)) + _int(attrs.get(sc.USAGE_OUTPUT_TOKENS)),
        status="error" if span.error else "ok",
        start=span.start / 1e9,
        parent=names.get(span.parent) if span.parent is not None else None,
        thread_id=_str(attrs.get(sc.CONVERSATION_ID)),
        run_id=runs.get(span.trace_id),
        span_id=format(span.span_id, "016x"),
        parent_span_id=format(span.parent, "016x") if span.parent is not None else None,
        attributes=dict(attrs),
    )


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


_RECORDERS: dict[int, TraceRecorder] = {}
_RECORDERS_LOCK = threading.Lock()
_PRIVATE: list[Any] = []


def private_provider() -> TracerProvider:
    """This process's private provider: traced runs with no provider configured go here,
    only to feed ``get_traces()``."""
    with _RECORDERS_LOCK:
        if not _PRIVATE:
            from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

            _PRIVATE.append(SdkTracerProvider())
        return _PRIVATE[0]  # type: ignore[no-any-return]


def recorder_for(provider: Any) -> TraceRecorder | None:
    """The `TraceRecorder` registered on ``provider`` (registered on first use); ``None``
    when the provider takes no span processors (not the SDK's)."""
    add = getattr(provider, "add_span_processor", None)
    if add is None:
        return None
    with _RECORDERS_LOCK:
        recorder = _RECORDERS.get(id(provider))
        if recorder is None:
            recorder = _RECORDERS[id(provider)] = TraceRecorder()
            add(recorder)
        return recorder


def capture_content_from_env() -> bool:
    """Whether ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` opts in to content."""
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in ("true", "1", "yes")


def configure_tracing(
    *, service_name: str | None = None, exporter: Any = None, set_global: bool = True
) -> TracerProvider:
    """Set up an SDK tracer provider that exports spans over OTLP/HTTP (extra ``otlp``).

    The exporter reads the standard ``OTEL_EXPORTER_OTLP_*`` variables (endpoint,
    headers, timeout, protocol ``http/protobuf``); ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES`` name the service unless ``service_name`` is given.
    Spans are exported in batches; ``provider.shutdown()`` (or process exit) flushes them.

    Args:
        service_name: The ``service.name`` resource attribute.
        exporter: A span exporter to use instead of OTLP/HTTP (e.g. the SDK's
            ``ConsoleSpanExporter``).
        set_global: Also make it the global tracer provider (the default).

    Returns:
        The provider (pass it to ``create_network(tracer_provider=...)`` when not global).

    Raises:
        ConfigurationError: the ``otlp`` extra is not installed.
    """
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from .exceptions import ConfigurationError

    if exporter is None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise ConfigurationError(
                "configure_tracing() exports over OTLP/HTTP, which needs the otlp extra: "
                "pip install 'graph-agents[otlp]' (or pass exporter=...)."
            ) from exc
        exporter = OTLPSpanExporter()
    attributes = {SERVICE_NAME: service_name} if service_name else {}
    provider = SdkTracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if set_global:
        trace.set_tracer_provider(provider)
    return provider
